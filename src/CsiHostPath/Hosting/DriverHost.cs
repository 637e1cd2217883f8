using CsiHostPath.Grpc;
using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Volumes;
using CsiHostPath.Volumes.Backings;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CsiHostPath.Hosting;

/// <summary>Wires the layers together and serves CSI on the unix socket until SIGTERM.</summary>
public static partial class DriverHost
{
    public static async Task<int> RunAsync(DriverOptions options, CancellationToken cancellationToken)
    {
        var errors = DriverOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync("csi-hostpath: " + error);
            return 2;
        }

        // The content root is where ASP.NET Core watches appsettings files for changes (with one inotify watch
        // per subdirectory); left at the working directory, a driver started in /tmp would watch all of it.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(options.Endpoint, listen => listen.Protocols = HttpProtocols.Http2);
        });
        AddDriver(builder.Services, options);

        var app = builder.Build();
        app.MapGrpcService<IdentityService>();
        app.MapGrpcService<ControllerService>();
        app.MapGrpcService<NodeService>();

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CsiHostPath");
        try
        {
            app.Services.GetRequiredService<VolumeRecovery>().Run();
            UnixSocketEndpoint.Prepare(options.Endpoint);
        }
        catch (IOException e)
        {
            LogStartFailed(logger, e.Message);
            return 1;
        }
        await app.StartAsync(cancellationToken);
        UnixSocketEndpoint.Restrict(options.Endpoint);
        LogListening(logger, options.DriverName, options.Endpoint, options.DataDir, options.NodeId);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    public static void AddDriver(IServiceCollection services, DriverOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<IMounter, LinuxMounter>();
        services.AddSingleton<ILoopDevices, LinuxLoopDevices>();
        services.AddSingleton<IProjectQuotas, LinuxProjectQuotas>();
        services.AddSingleton<FileSystemTools>();
        services.AddSingleton<IVolumeBacking, DirectoryBacking>();
        services.AddSingleton<IVolumeBacking, ImageBacking>();
        services.AddSingleton<VolumeBackings>();
        services.AddSingleton<CapacityPlanner>();
        services.AddSingleton<DataDirLayout>();
        services.AddSingleton<IVolumeStore, VolumeStore>();
        services.AddSingleton<VolumeIndex>();
        services.AddSingleton<VolumeLocks>();
        services.AddSingleton<NodeTopology>();
        services.AddSingleton<VolumeHealth>();
        services.AddSingleton<DataDirProbe>();
        services.AddSingleton<VolumeRecovery>();
        services.AddSingleton<VolumeManager>();
        services.AddSingleton<VolumePublisher>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            // CSI messages are small; a cap keeps a hostile client from making the driver buffer megabytes.
            grpc.MaxReceiveMessageSize = 1 << 20;
            grpc.EnableDetailedErrors = false;
        });
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information,
        Message = "Driver {DriverName} listening on {Endpoint}, volumes in {DataDir}, node {NodeId}")]
    private static partial void LogListening(ILogger logger, string driverName, string endpoint, string dataDir, string nodeId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);
}
