using CsiHostPath.Grpc;
using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Snapshots;
using CsiHostPath.Volumes;
using CsiHostPath.Volumes.Backings;
using System.Net.Sockets;
using CsiHostPath.Transport;
using CsiHostPath.Transport.Grpc;

namespace CsiHostPath.Hosting;

/// <summary>Wires the layers together and serves CSI on the unix socket until SIGTERM.</summary>
internal static partial class DriverHost
{
    public static async Task<int> RunAsync(DriverOptions options, CancellationToken cancellationToken)
    {
        var errors = DriverOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync("csi-hostpath: " + error);
            return DriverExitCodes.Usage;
        }

        var services = new ServiceCollection();
        services.AddLogging(logging => DriverLogging.Configure(logging, options));
        AddDriver(services, options);
        // Disposing flushes the console logger, whose lines are written on its own thread.
        await using var provider = services.BuildServiceProvider();

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

        var server = provider.GetRequiredService<GrpcServer>();
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
            server.Start(options.Endpoint);
            UnixSocketEndpoint.Restrict(options.Endpoint);
            // Calls that arrive meanwhile wait at the gate (RequestGate).
            provider.GetRequiredService<VolumeRecovery>().Run();
            provider.GetRequiredService<SnapshotRecovery>().Run();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            LogStartFailed(logger, e.Message);
            await server.StopAsync(TimeSpan.Zero);
            return DriverExitCodes.StartFailed;
        }
        provider.GetRequiredService<RequestGate>().Open();
        LogListening(logger, options.DriverName, options.Endpoint, options.DataDir, options.NodeId);
        var measuring = provider.GetRequiredService<DirectoryUsageCache>().RunAsync(cancellationToken);
        var sweeping = provider.GetRequiredService<EphemeralVolumeSweeper>().RunAsync(cancellationToken);

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM or SIGINT: the command line cancels the token.
        }
        await server.StopAsync(ShutdownGrace);
        await measuring;
        await sweeping;
        return 0;
    }

    // kubelet waits 30 s for the whole pod; calls in flight (a mkfs, a large delete) get most of the command line's budget.
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1.5);

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
        services.AddSingleton<DirectoryUsageCache>();
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
        services.AddSingleton(provider =>
        {
            var methods = new GrpcMethodTable(provider.GetRequiredService<ErrorMappingInterceptor>());
            Csi.V1.Identity.BindService(methods, provider.GetRequiredService<IdentityService>());
            Csi.V1.Controller.BindService(methods, provider.GetRequiredService<ControllerService>());
            Csi.V1.Node.BindService(methods, provider.GetRequiredService<NodeService>());
            Csi.V1.GroupController.BindService(methods, provider.GetRequiredService<GroupControllerService>());
            return methods;
        });
        services.AddSingleton<RequestGate>();
        services.AddSingleton<GrpcRequestHandler>();
        services.AddSingleton<GrpcServer>();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information,
        Message = "Driver {DriverName} listening on {Endpoint}, volumes in {DataDir}, node {NodeId}")]
    private static partial void LogListening(ILogger logger, string driverName, string endpoint, string dataDir, string nodeId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 14, Level = LogLevel.Critical,
        Message = "Cannot start: CAP_SYS_ADMIN is missing, and every publish is a mount. Run the driver as root, or in the DaemonSet's privileged container (securityContext.privileged: true)")]
    private static partial void LogNoSysAdmin(ILogger logger);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "CAP_SYS_RESOURCE is missing: the kernel will not grow a mounted ext4 image volume (NodeExpandVolume says so); xfs and everything else work")]
    private static partial void LogNoSysResource(ILogger logger);
}
