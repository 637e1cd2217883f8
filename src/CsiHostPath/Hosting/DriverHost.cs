using CsiHostPath.Grpc;
using CsiHostPath.Metrics;
using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Snapshots;
using CsiHostPath.Volumes;
using CsiHostPath.Volumes.Backings;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CsiHostPath.Hosting;

/// <summary>Wires the layers together and serves CSI with Kestrel on the unix socket until SIGTERM.</summary>
internal static partial class DriverHost
{
    /// <summary>CSI messages are small; a cap keeps a hostile client from making the driver buffer megabytes.</summary>
    public const int MaxReceiveMessageSize = 1 << 20;

    // kubelet waits 30 s for the whole pod, but the command line gives the action 2 s after SIGTERM before it
    // returns: calls in flight (a mkfs, a large delete) get most of that.
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1.5);

    // Not Timeout.InfiniteTimeSpan: Kestrel stores that as TimeSpan.MaxValue, and its HTTP/2 connections add it to
    // the current timestamp, which overflows and closes every idle connection at the next heartbeat (ServingTests'
    // idle test caught it). A century is never for a node plugin, and far from the overflow.
    private static readonly TimeSpan Never = TimeSpan.FromDays(36_500);

    public static async Task<int> RunAsync(DriverOptions options, CancellationToken cancellationToken)
    {
        var errors = DriverOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync("csi-hostpath: " + error);
            return DriverExitCodes.Usage;
        }

        // Disposing flushes the console logger, whose lines are written on its own thread.
        await using var app = Build(options);
        var provider = app.Services;
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("CsiHostPath");
        if (!ProcessCapabilities.Has(ProcessCapabilities.SysAdmin))
        {
            LogNoSysAdmin(logger);
            return DriverExitCodes.StartFailed;
        }
        if (!ProcessCapabilities.Has(ProcessCapabilities.SysResource))
            LogNoSysResource(logger);
        try
        {
            Directory.CreateDirectory(options.DataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogStartFailed(logger, $"--data-dir: cannot create {options.DataDir}: {e.Message}");
            return DriverExitCodes.StartFailed;
        }
        // Before the socket: a second driver on this data dir must neither serve its volumes nor clean up under the first.
        DataDirLock? dataDirLock;
        try
        {
            dataDirLock = await DataDirLock.AcquireAsync(options.DataDir, options.LockTimeout, logger, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        if (dataDirLock is null)
            return DriverExitCodes.StartFailed;
        using var heldForLife = dataDirLock;

        try
        {
            UnixSocketEndpoint.Prepare(options.Endpoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogStartFailed(logger, "--endpoint: " + e.Message);
            return DriverExitCodes.StartFailed;
        }
        try
        {
            await app.StartAsync(cancellationToken);
            UnixSocketEndpoint.Restrict(options.Endpoint);
            // Served from here on, while the records load.
            if (options.HttpEndpoint is { } http)
                LogServingMetrics(logger, http.ToString(), MetricsEndpoint.Path);
            // Calls that arrive meanwhile wait at the gate (RequestGate).
            provider.GetRequiredService<VolumeRecovery>().Run();
            provider.GetRequiredService<SnapshotRecovery>().Run();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            LogStartFailed(logger, e.Message);
            await app.StopAsync(CancellationToken.None);
            return DriverExitCodes.StartFailed;
        }
        var gate = provider.GetRequiredService<RequestGate>();
        gate.Open();
        LogListening(logger, options.DriverName, options.Endpoint, options.DataDir, options.NodeId);
        // Start-up allocates ~11 MB (the container, Kestrel, the records) that no collection would reclaim before the
        // first calls: idle RSS 33 → 21 MiB. Once, after the gate has opened; after that the gate trims after bursts.
        MemoryTrim.Collect();
        // The command line turns SIGTERM and SIGINT, and only those, into the cancelled token.
        int inFlightAtSignal = 0;
        using var onStop = cancellationToken.Register(() =>
        {
            inFlightAtSignal = gate.InFlight;
            LogStopping(logger, inFlightAtSignal, ShutdownGrace.TotalSeconds);
        });
        var measuring = provider.GetRequiredService<DirectoryUsageCache>().RunAsync(cancellationToken);
        var sweeping = provider.GetRequiredService<EphemeralVolumeSweeper>().RunAsync(cancellationToken);

        // SIGTERM or SIGINT cancels the token; Kestrel then refuses new calls and lets those in flight finish
        // within the host's shutdown timeout.
        await app.WaitForShutdownAsync(cancellationToken);
        await measuring;
        await sweeping;
        int cut = gate.InFlight;
        LogStopped(logger, Math.Max(0, inFlightAtSignal - cut), cut, options.Endpoint, !Path.Exists(options.Endpoint));
        return 0;
    }

    private static WebApplication Build(DriverOptions options)
    {
        // The empty builder reads no configuration files, environment or command line, and brings only what is
        // added below (docs/performance.md compares it with the slim builder).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        DriverLogging.Configure(builder.Logging, options);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownGrace);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The sidecars dial once and exit when that connection drops (csi-lib-utils' ExitOnConnectionLoss), and a
            // quiet node may send nothing for hours: Kestrel's 130 s keep-alive would restart them all the time.
            kestrel.Limits.KeepAliveTimeout = options.ConnectionIdleTimeout == Timeout.InfiniteTimeSpan ? Never : options.ConnectionIdleTimeout;
            kestrel.ListenUnixSocket(options.Endpoint, listen => listen.Protocols = HttpProtocols.Http2);
            if (options.HttpEndpoint is { } http)
                MetricsEndpoint.Listen(kestrel, http);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.MaxReceiveMessageSize = MaxReceiveMessageSize;
            grpc.EnableDetailedErrors = false;
        });
        AddDriver(builder.Services, options);
        if (options.HttpEndpoint is not null)
            MetricsEndpoint.AddServices(builder.Services, options.MetricsConnectionLifetime);

        var app = builder.Build();
        if (options.HttpEndpoint is not null)
            MetricsEndpoint.Map(app);
        app.Use(app.Services.GetRequiredService<RequestGate>().InvokeAsync);
        app.MapGrpcService<IdentityService>();
        app.MapGrpcService<ControllerService>();
        app.MapGrpcService<NodeService>();
        app.MapGrpcService<GroupControllerService>();
        return app;
    }

    private static void AddDriver(IServiceCollection services, DriverOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<IMounter, LinuxMounter>();
        services.AddSingleton<ILoopDevices, LinuxLoopDevices>();
        services.AddSingleton<IProjectQuotas, LinuxProjectQuotas>();
        services.AddSingleton<FileSystemTools>();
        services.AddSingleton<IVolumeBacking, DirectoryBacking>();
        services.AddSingleton<IVolumeBacking, ImageBacking>();
        services.AddSingleton<VolumeBackings>();
        services.AddSingleton<DirectoryUsageCache>();
        services.AddSingleton<ImagePromises>();
        services.AddSingleton<CapacityPlanner>();
        services.AddSingleton<DataDirLayout>();
        services.AddSingleton<IVolumeStore, VolumeStore>();
        services.AddSingleton<VolumeIndex>();
        services.AddSingleton<VolumeLocks>();
        services.AddSingleton<NodeTopology>();
        services.AddSingleton<VolumeMounts>();
        services.AddSingleton<VolumeHealth>();
        services.AddSingleton<LaggingRecords>();
        services.AddSingleton<DataDirProbe>();
        services.AddSingleton<VolumeRecovery>();
        services.AddSingleton<QuotaProjects>();
        services.AddSingleton<VolumeManager>();
        services.AddSingleton<VolumePublisher>();
        services.AddSingleton<EphemeralVolumes>();
        services.AddSingleton<EphemeralVolumeSweeper>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<SnapshotIndex>();
        services.AddSingleton<GroupSnapshotStore>();
        services.AddSingleton<GroupSnapshotIndex>();
        services.AddSingleton<VolumeContent>();
        services.AddSingleton<ContentSources>();
        services.AddSingleton<SnapshotManager>();
        services.AddSingleton<GroupSnapshotManager>();
        services.AddSingleton<SnapshotRecovery>();
        services.AddSingleton<GroupControllerService>();
        services.AddSingleton<IdentityService>();
        services.AddSingleton<ControllerService>();
        services.AddSingleton<NodeService>();
        services.AddSingleton<ErrorMappingInterceptor>();
        services.AddSingleton<RequestGate>();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information,
        Message = "Driver {DriverName} listening on {Endpoint}, volumes in {DataDir}, node {NodeId}")]
    private static partial void LogListening(ILogger logger, string driverName, string endpoint, string dataDir, string nodeId);

    [LoggerMessage(EventId = 19, Level = LogLevel.Information, Message = "Serving metrics at http://{HttpEndpoint}{MetricsPath}")]
    private static partial void LogServingMetrics(ILogger logger, string httpEndpoint, string metricsPath);

    [LoggerMessage(EventId = 17, Level = LogLevel.Information,
        Message = "Stopping on SIGTERM or SIGINT: no new calls; {InFlight} calls in flight get up to {GraceSeconds} s to finish")]
    private static partial void LogStopping(ILogger logger, int inFlight, double graceSeconds);

    [LoggerMessage(EventId = 18, Level = LogLevel.Information,
        Message = "Stopped: {Drained} calls drained, {Cut} cut at the grace period; socket {Endpoint} removed={SocketRemoved}")]
    private static partial void LogStopped(ILogger logger, int drained, int cut, string endpoint, bool socketRemoved);

    [LoggerMessage(EventId = 11, Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 14, Level = LogLevel.Critical,
        Message = "Cannot start: CAP_SYS_ADMIN is missing, and every publish is a mount. Run the driver as root, or in the DaemonSet's privileged container (securityContext.privileged: true)")]
    private static partial void LogNoSysAdmin(ILogger logger);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "CAP_SYS_RESOURCE is missing: the kernel will not grow a mounted ext4 image volume (NodeExpandVolume says so); xfs and everything else work")]
    private static partial void LogNoSysResource(ILogger logger);
}
