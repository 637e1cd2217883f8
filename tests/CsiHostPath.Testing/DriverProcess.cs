using CsiHostPath.Client;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace CsiHostPath.Testing;

/// <summary>
/// The real csi-hostpath executable, started in a <see cref="TempRoot"/> with its socket and data dir there.
/// Tests talk to it through <see cref="Client"/> and can kill -9 and restart it. Started with
/// <see cref="StartOnNodeAsync"/>, it runs as the DaemonSet runs it, in a <see cref="NodeHarness"/>: every start is
/// in a fresh mount namespace, as after a container restart.
/// </summary>
public sealed class DriverProcess : IAsyncDisposable
{
    public const string NodeId = "test-node";
    public const string DriverName = "hostpath.csihostpath.dev";
    public const string TopologyKey = "topology." + DriverName + "/node";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<string> _arguments;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly IReadOnlyList<string> _launcher;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly NodeHarness? _node;
    private Process? _process;

    private DriverProcess(TempRoot root, string[] extraArgs, NodeHarness? node = null)
    {
        Root = root;
        _node = node;
        SocketPath = root.Combine("csi.sock");
        DataDir = node?.DataDir ?? root.Combine("data");
        PodsDir = node?.PodsDir ?? root.Combine("targets");
        // A node always has kubelet's pods dir; the driver refuses a target whose parent is missing.
        Directory.CreateDirectory(PodsDir);
        string driverDataDir = node?.DataDirArgument ?? DataDir;
        _arguments = ["--endpoint", "unix://" + SocketPath, "--data-dir", driverDataDir, "--node-id", NodeId, "--log-level", "Debug", .. extraArgs];
        _environment = new Dictionary<string, string>();
        _launcher = [];
    }

    private DriverProcess(
        TempRoot root, string socketPath, string dataDir, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string> launcher)
    {
        Root = root;
        SocketPath = socketPath;
        DataDir = dataDir;
        PodsDir = root.Combine("targets");
        Directory.CreateDirectory(PodsDir);
        _arguments = arguments;
        _environment = environment;
        _launcher = launcher;
    }

    public TempRoot Root { get; }

    public string SocketPath { get; }

    /// <summary>The data dir as the test sees it (on a node, the host's side of the container's bind mount).</summary>
    public string DataDir { get; }

    /// <summary>Where a test puts target paths, as kubelet puts them under its pods dir.</summary>
    public string PodsDir { get; }

    /// <summary>The node the driver runs on, when started with <see cref="StartOnNodeAsync"/>.</summary>
    public NodeHarness Node => _node ?? throw new InvalidOperationException("the driver was not started on a node harness");

    public CsiClient Client { get; private set; } = null!;

    public int Pid => _process?.Id ?? throw new InvalidOperationException("the driver is not running");

    /// <summary>Everything the driver wrote to stdout and stderr, for a failing test's message.</summary>
    public string Output => string.Join('\n', _output);

    public static async Task<DriverProcess> StartAsync(TempRoot root, params string[] extraArgs)
    {
        var driver = new DriverProcess(root, extraArgs);
        await driver.StartAsync();
        return driver;
    }

    /// <summary>Starts the driver as the DaemonSet runs it, in a fresh <see cref="NodeHarness"/> over <paramref name="root"/>.</summary>
    public static Task<DriverProcess> StartOnNodeAsync(TempRoot root, params string[] extraArgs) =>
        StartOnNodeAsync(root, NodeHarness.DefaultDataDirBytes, extraArgs);

    /// <summary>As <see cref="StartOnNodeAsync(TempRoot, string[])"/>, with a data dir of <paramref name="dataDirBytes"/> (ext4 makes an inode per 16 KiB).</summary>
    public static Task<DriverProcess> StartOnNodeAsync(TempRoot root, long dataDirBytes, params string[] extraArgs) =>
        StartOnAsync(new DriverProcess(root, extraArgs, NodeHarness.Create(root, dataDirBytes)));

    /// <summary>As <see cref="StartOnNodeAsync"/>, with --data-dir naming the data dir through a symlink.</summary>
    public static Task<DriverProcess> StartOnNodeWithSymlinkedDataDirAsync(TempRoot root, params string[] extraArgs) =>
        StartOnAsync(new DriverProcess(root, extraArgs, NodeHarness.Create(root, dataDirThroughSymlink: true)));

    /// <summary>As <see cref="StartOnNodeAsync"/>, with an xfs data dir of <paramref name="dataDirBytes"/>: xfs commits a rename to its log before the renamed file's data, so a power cut shows a missing fsync.</summary>
    public static Task<DriverProcess> StartOnNodeWithXfsDataDirAsync(TempRoot root, long dataDirBytes, params string[] extraArgs) =>
        StartOnAsync(new DriverProcess(root, extraArgs, NodeHarness.Create(root, dataDirBytes, dataDirFsType: "xfs")));

    /// <summary>As <see cref="StartOnNodeAsync"/>, each start with a fresh /dev of its own, as a container's.</summary>
    public static Task<DriverProcess> StartOnNodeWithPrivateDevAsync(TempRoot root, params string[] extraArgs) =>
        StartOnAsync(new DriverProcess(root, extraArgs, NodeHarness.Create(root, privateDev: true)));

    private static async Task<DriverProcess> StartOnAsync(DriverProcess driver)
    {
        try
        {
            await driver.StartAsync();
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
        return driver;
    }

    /// <summary>
    /// Starts the driver with exactly <paramref name="arguments"/> and <paramref name="environment"/>, as a deployment
    /// manifest runs it; <paramref name="socketPath"/> and <paramref name="dataDir"/> are where those arguments put them.
    /// A <paramref name="launcher"/> (a command that ends by exec'ing its arguments, such as unshare) runs it in a changed
    /// world; the driver keeps the launcher's pid.
    /// </summary>
    public static async Task<DriverProcess> StartWithArgumentsAsync(
        TempRoot root, string socketPath, string dataDir, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string>? launcher = null)
    {
        var driver = new DriverProcess(root, socketPath, dataDir, arguments, environment, launcher ?? []);
        await driver.StartAsync();
        return driver;
    }

    /// <summary>The driver executable built beside the tests: $CSI_HOSTPATH_BIN, else src/CsiHostPath's output of the same configuration.</summary>
    public static string ExecutablePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CSI_HOSTPATH_BIN") is { Length: > 0 } configured)
                return configured;
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string framework = testOutput.Name;
            string configuration = testOutput.Parent!.Name;
            var dir = testOutput;
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CsiHostPath.sln")))
                dir = dir.Parent;
            if (dir is null)
                throw new FileNotFoundException("cannot find CsiHostPath.sln above " + AppContext.BaseDirectory + "; set CSI_HOSTPATH_BIN");
            return Path.Combine(dir.FullName, "src", "CsiHostPath", "bin", configuration, framework, "csi-hostpath");
        }
    }

    public async Task StartAsync()
    {
        var start = _node?.Launch(ExecutablePath) ?? new ProcessStartInfo(_launcher.Count > 0 ? _launcher[0] : ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_node is null && _launcher.Count > 0)
        {
            foreach (var arg in _launcher.Skip(1).Append(ExecutablePath))
                start.ArgumentList.Add(arg);
        }
        foreach (var arg in _arguments)
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in _environment)
            start.Environment[name] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilListeningAsync();
        Client?.Dispose();
        Client = new CsiClient(SocketPath);
        // The socket opens before the records are loaded and calls wait until they are: the first answer means
        // start-up is over, so a test that looks at the data dir next sees what recovery left.
        try
        {
            await Client.Identity.GetPluginInfoAsync(new Csi.V1.GetPluginInfoRequest(), deadline: DateTime.UtcNow + StartTimeout);
        }
        catch (Grpc.Core.RpcException e) when (_process.HasExited)
        {
            throw new InvalidOperationException($"csi-hostpath exited with {_process.ExitCode} while starting ({e.Status.Detail}):\n{Output}");
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"csi-hostpath exited with {_process.ExitCode}:\n{Output}");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(10);
            }
        }
        throw new TimeoutException($"csi-hostpath did not listen on {SocketPath} within {StartTimeout}:\n{Output}");
    }

    /// <summary>
    /// SIGKILL, as a node's OOM killer or a crash would: no clean-up runs. On a node harness every process of the
    /// driver's namespace dies with it, and the namespace with its mounts is gone when this returns.
    /// </summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
            return;
        if (_node is null)
            _process.Kill();
        else
            NodeHarness.KillNamespaceOf(_process.Id);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as kubelet stops a container; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null || _process.HasExited)
            return _process?.ExitCode ?? 0;
        Terminate();
        return await WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>SIGTERM without waiting, for a test that acts while the driver shuts down.</summary>
    public void Terminate() => _ = Interop.Kill(Pid, 15);

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process!.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Runs <paramref name="tool"/> in the driver's mount namespace (nsenter), with the paths the driver sees.</summary>
    public string RunInMountNamespace(string tool, params string[] args) =>
        LoopFileSystem.Run("nsenter", ["--target", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--", tool, .. args]);

    /// <summary>Where the driver sees <paramref name="hostPath"/>.</summary>
    public string DriverPath(string hostPath) => _node?.ContainerPath(hostPath) ?? hostPath;

    /// <summary>kill -9, then a start; on a node harness the new driver runs in a fresh mount namespace.</summary>
    public async Task RestartAfterKillAsync()
    {
        await KillAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        await KillAsync();
        _process?.Dispose();
        _node?.Dispose();
    }
}
