using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Csi.V1;
using CsiHostPath.Client;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// --http-endpoint: the real driver process, scraped as Prometheus scrapes it, by an HTTP/1.1 GET over TCP on 127.0.0.1.
/// </summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const long Slack = 256L << 20;
    private readonly TempRoot _root = new();
    private readonly HttpClient _http = new() { Timeout = Deadline };
    private readonly int _port = FreePort();
    private DriverProcess? _driver;

    private Uri MetricsUri => new($"http://127.0.0.1:{_port}/metrics");

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Scrape_AfterCalls_CountsThemByMethodAndCode_AndShowsTheNodeState()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}");
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-metrics", 8 << 20))).Volume;
        var missing = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver.Client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = "no-such-volume", VolumePath = _root.Combine("nowhere") }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        long before = (await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest())).AvailableCapacity;

        var scrape = await ScrapeAsync();

        long after = (await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest())).AvailableCapacity;

        Assert.Equal(1, scrape.Value("csi_hostpath_rpc_requests_total", ("method", "CreateVolume"), ("code", "OK")));
        Assert.Equal(1, scrape.Value("csi_hostpath_rpc_requests_total", ("method", "NodeGetVolumeStats"), ("code", "NOT_FOUND")));
        Assert.Null(scrape.Value("csi_hostpath_rpc_requests_total", ("method", "NodeGetVolumeStats"), ("code", "OK")));
        Assert.Equal(1, scrape.Value("csi_hostpath_rpc_duration_seconds_count", ("method", "CreateVolume")));
        Assert.Equal(1, scrape.Value("csi_hostpath_rpc_duration_seconds_bucket", ("method", "CreateVolume"), ("le", "+Inf")));
        Assert.Equal(0, scrape.Value("csi_hostpath_rpc_in_flight", ("method", "CreateVolume")));
        Assert.Equal(1, scrape.Value("csi_hostpath_volumes", ("backing", "directory")));
        Assert.Equal(0, scrape.Value("csi_hostpath_volumes", ("backing", "image")));
        Assert.Equal(volume.CapacityBytes, scrape.Value("csi_hostpath_provisioned_bytes", ("backing", "directory")));
        Assert.Equal(0, scrape.Value("csi_hostpath_snapshots", ("backing", "directory")));
        // The data dir's filesystem is shared with whatever else the machine runs: free space moves between the calls.
        Assert.InRange(scrape.Value("csi_hostpath_capacity_free_bytes") ?? -1, Math.Min(before, after) - Slack, Math.Max(before, after) + Slack);
        Assert.Equal(0, scrape.Value("csi_hostpath_operation_failures_total", ("operation", "mount")));
        Assert.Equal(0, scrape.Value("csi_hostpath_ephemeral_volumes_swept_total"));
        Assert.True(scrape.Value("process_cpu_time_seconds_total", ("cpu_mode", "user")) > 0, scrape.Text);
        Assert.True(scrape.Value("dotnet_gc_heap_total_allocated_bytes_total") > 0, scrape.Text);
        // Exactly the README's names and labels: no exporter scope labels, no target_info. Only the walk histogram waits
        // for a first walk (the walk test shows it).
        var readme = ReadmeMetricNames().ToHashSet();
        var exported = scrape.Families.Where(f => f.StartsWith("csi_hostpath_", StringComparison.Ordinal)).ToHashSet();
        Assert.Subset(readme, exported);
        Assert.Equal(["csi_hostpath_usage_walk_duration_seconds"], readme.Except(exported));
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.Keys.Any(k => k.StartsWith("otel_", StringComparison.Ordinal)));
        Assert.DoesNotContain("target_info", scrape.Families);
        Assert.Contains(_port, TcpListenPortsOf(_driver.Pid));
    }

    [Fact]
    public async Task TcpListener_ServesOnlyMetrics_NotOtherPathsNorTheCsiServices()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}");

        using var other = await _http.GetAsync(new Uri($"http://127.0.0.1:{_port}/"));
        using var csi = await _http.PostAsync(new Uri($"http://127.0.0.1:{_port}/csi.v1.Controller/DeleteVolume"), new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, csi.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(MetricsUri)).StatusCode);
    }

    /// <summary>
    /// Kestrel's idle timeout is off for the sidecars' sake, and any pod that reaches the node may dial the metrics port:
    /// connections there are capped, so a flood of silent ones cannot pile up in the driver.
    /// </summary>
    [Fact]
    public async Task TcpListener_FloodOfSilentConnections_OnlyTheCapIsKeptAndScrapesResumeWhenTheyGo()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}", "--http-connection-lifetime-ms", "600000");
        const int Cap = 16;
        var silent = Sockets(64);
        try
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var closed = silent.Select(socket => ConnectSilentlyUntilClosedAsync(socket, deadline.Token)).ToList();
            while (closed.Count(t => t.IsCompleted) < silent.Count - Cap)
                await Task.WhenAny(closed.Where(t => !t.IsCompleted).Append(Task.Delay(Timeout.Infinite, deadline.Token)));
            Assert.Equal(silent.Count - Cap, closed.Count(t => t.IsCompletedSuccessfully && t.Result));

            var refused = await Record.ExceptionAsync(() => _http.GetAsync(MetricsUri));
            Assert.True(refused is HttpRequestException or SocketException or IOException, $"a scrape got through while {Cap} silent connections held every slot ({refused})");
            Assert.Equal("hostpath.csihostpath.dev", (await _driver.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest())).Name);
        }
        finally
        {
            silent.ForEach(socket => socket.Dispose());
        }
        await PollAsync(async () =>
        {
            try
            {
                using var response = await _http.GetAsync(MetricsUri);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
    }

    /// <summary>A metrics connection lives one request; one that stalls is cut at the end of its lifetime.</summary>
    [Fact]
    public async Task TcpListener_SilentConnection_IsClosedAtTheEndOfItsLifetimeAndAScrapeSaysConnectionClose()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}", "--http-connection-lifetime-ms", "500");
        var silent = Sockets(4);
        try
        {
            using var deadline = new CancellationTokenSource(Deadline);
            foreach (var socket in silent)
                Assert.True(await ConnectSilentlyUntilClosedAsync(socket, deadline.Token));
        }
        finally
        {
            silent.ForEach(socket => socket.Dispose());
        }

        using var response = await _http.GetAsync(MetricsUri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose);
    }

    [Fact]
    public async Task Scrape_AfterAUsageWalk_ShowsItsDurationAndTheAgeOfTheOldestFigure()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}", "--usage-refresh-interval", "1h");
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-walked", 64 << 20))).Volume;
        string target = _root.Combine("pods", "p1", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        await File.WriteAllBytesAsync(Path.Combine(target, "a"), new byte[1 << 20]);
        var stats = new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target };

        // The first ask queues the walk; kubelet keeps asking, and the walk's figure shows in the answers.
        await PollAsync(async () => (await _driver.Client.Node.NodeGetVolumeStatsAsync(stats)).Usage
            .Single(u => u.Unit == Csi.V1.VolumeUsage.Types.Unit.Bytes).Used >= 1 << 20);
        var walked = await ScrapeAsync();
        Assert.Equal(1, walked.Value("csi_hostpath_usage_walk_duration_seconds_count"));
        Assert.True(walked.Value("csi_hostpath_usage_walk_duration_seconds_sum") > 0, walked.Text);
        Assert.True(walked.Value("csi_hostpath_used_bytes", ("backing", "directory")) >= 1 << 20, walked.Text);

        // Nothing walks again within the hour: the figure only gets older.
        await PollAsync(async () => (await ScrapeAsync()).Value("csi_hostpath_usage_oldest_figure_age_seconds") >= 0.5);
        var later = await ScrapeAsync();
        Assert.True(later.Value("csi_hostpath_usage_oldest_figure_age_seconds") < Deadline.TotalSeconds * 2, later.Text);
        Assert.Equal(1, later.Value("csi_hostpath_usage_walk_duration_seconds_count"));
    }

    /// <summary>
    /// An image volume's used bytes are what its sparse file has allocated (mkfs wrote its metadata), not its size;
    /// measured when it was made, so no more than the file holds now.
    /// </summary>
    [Fact]
    public async Task Scrape_WithAnImageVolume_UsedIsWhatItsFileAllocated()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}");
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(
            Requests.Create("pvc-image-used", 64 << 20, new Dictionary<string, string> { ["backing"] = "image" }))).Volume;

        var scrape = await ScrapeAsync();

        long allocatedNow = AllocatedBytes(Path.Combine(_driver.DataDir, "volumes", volume.VolumeId, "image"));
        Assert.Equal(volume.CapacityBytes, scrape.Value("csi_hostpath_provisioned_bytes", ("backing", "image")));
        Assert.InRange(scrape.Value("csi_hostpath_used_bytes", ("backing", "image")) ?? -1, 1, Math.Min(allocatedNow, volume.CapacityBytes));
    }

    /// <summary>
    /// A mount and an unmount the kernel refuses (faked: strace answers mount with EIO, umount2 with EBUSY) are each
    /// counted once under their operation; the calls that then succeed add nothing.
    /// </summary>
    [Fact]
    public async Task Scrape_AfterAFailedMountAndUnmount_CountsEachUnderItsOperation()
    {
        _driver = await DriverProcess.StartAsync(_root, "--http-endpoint", $"127.0.0.1:{_port}");
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-failing-mount"))).Volume;
        string target = Path.Combine(_driver.PodsDir, "failing-mount");
        string log = _root.Combine("strace.log");

        using (SyscallFault.Fail(_driver.Pid, "mount", "EIO", log))
            await Assert.ThrowsAsync<RpcException>(async () => await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target)));
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        using (SyscallFault.Fail(_driver.Pid, "umount2", "EBUSY", log))
            await Assert.ThrowsAsync<RpcException>(async () =>
                await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target }));
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });

        var scrape = await ScrapeAsync();
        Assert.Equal(1, scrape.Value("csi_hostpath_operation_failures_total", ("operation", "mount")));
        Assert.Equal(1, scrape.Value("csi_hostpath_operation_failures_total", ("operation", "unmount")));
        Assert.Equal(0, scrape.Value("csi_hostpath_operation_failures_total", ("operation", "loop_attach")));
        Assert.Equal(1, scrape.Value("csi_hostpath_rpc_requests_total", ("method", "NodePublishVolume"), ("code", "OK")));
        Assert.Contains("(INJECTED)", File.ReadAllText(log), StringComparison.Ordinal);
    }

    /// <summary>
    /// The records load after the socket opens, and gRPC calls wait at the gate until they have (RequestGate); a scrape
    /// must not. A volume record that is a FIFO holds the load for as long as the test wants: the driver's open(2) of it
    /// waits for a writer.
    /// </summary>
    [Fact]
    public async Task Scrape_WhileTheRecordsLoad_AnswersAndTheGrpcCallsStillWait()
    {
        string dataDir = _root.Combine("data");
        var (record, json) = VolumeRecordFiles.HeldDirectoryVolume(dataDir, "pvc-held");
        string socket = _root.Combine("csi.sock");
        var start = new ProcessStartInfo(DriverProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--endpoint", socket, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId, "--http-endpoint", $"127.0.0.1:{_port}"])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            // Kestrel binds the CSI socket first: it may take a connection a moment before the metrics port is bound.
            await PollAsync(() => Task.FromResult((CsiClient.CanConnect(socket) && CanConnectTcp(_port)) || process.HasExited));
            if (process.HasExited)
                Assert.Fail("the driver exited: " + await error);
            using var client = new CsiClient(socket);
            var list = client.Controller.ListVolumesAsync(new ListVolumesRequest()).ResponseAsync;

            var scrape = await ScrapeAsync();

            Assert.Equal(0, scrape.Value("csi_hostpath_volumes", ("backing", "directory")));
            Assert.False(list.IsCompleted, "ListVolumes was answered before the record it must list was loaded");
            await File.WriteAllTextAsync(record, json);
            Assert.Single((await list.WaitAsync(Deadline)).Entries);
            Assert.Equal(1, (await ScrapeAsync()).Value("csi_hostpath_volumes", ("backing", "directory")));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
            await process.WaitForExitAsync();
            _ = await output + await error;
        }
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost:9810")]
    [InlineData("127.0.0.1:70000")]
    public async Task Start_WithABadHttpEndpoint_ExitsWithUsageNamingTheFlag(string endpoint)
    {
        var start = new ProcessStartInfo(DriverProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--endpoint", _root.Combine("csi.sock"), "--data-dir", _root.Combine("data"), "--node-id", DriverProcess.NodeId, "--http-endpoint", endpoint])
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(Deadline).Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains($"--http-endpoint: '{endpoint}' is not ADDR:PORT", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_root.Combine("csi.sock")), await output);
    }

    [Fact]
    public async Task HttpEndpoint_NotGiven_NoTcpListener()
    {
        _driver = await DriverProcess.StartAsync(_root);

        Assert.Empty(TcpListenPortsOf(_driver.Pid));
    }

    private async Task<Scrape> ScrapeAsync()
    {
        using var response = await _http.GetAsync(MetricsUri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return Scrape.Parse(await response.Content.ReadAsStringAsync());
    }

    private static List<Socket> Sockets(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))];

    /// <summary>
    /// Connects to the metrics port, sends nothing, and answers whether the driver closed the connection (end of stream,
    /// or a reset, which can come before the connect completes); waits until it does or <paramref name="cancellationToken"/> fires.
    /// </summary>
    private async Task<bool> ConnectSilentlyUntilClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, _port, cancellationToken);
            return await socket.ReceiveAsync(new byte[1], SocketFlags.None, cancellationToken) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static async Task PollAsync(Func<Task<bool>> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(stopwatch.Elapsed < Deadline, "the condition did not hold within " + Deadline);
            await Task.Delay(20);
        }
    }

    /// <summary>What the file takes on disk, as du counts it (st_blocks × 512).</summary>
    private static long AllocatedBytes(string path) =>
        long.Parse(LoopFileSystem.Run("du", ["-B1", path]).Split('\t')[0], CultureInfo.InvariantCulture);

    private static bool CanConnectTcp(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The ports of the TCP sockets <paramref name="pid"/> listens on: its socket fds' inodes, found in /proc/net/tcp{,6} in state LISTEN (0A).</summary>
    private static List<int> TcpListenPortsOf(int pid)
    {
        var inodes = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(target => target.StartsWith("socket:[", StringComparison.Ordinal))
            .Select(target => target["socket:[".Length..^1])
            .ToHashSet();
        return ((string[])["/proc/net/tcp", "/proc/net/tcp6"])
            .SelectMany(table => File.ReadLines(table).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == "0A" && inodes.Contains(fields[9]))
            .Select(fields => int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToList();
    }

    /// <summary>The metric names README.md's Monitoring table lists.</summary>
    private static IEnumerable<string> ReadmeMetricNames()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir.FullName, "README.md")) || !File.Exists(Path.Combine(dir.FullName, "CsiHostPath.sln")))
            dir = dir.Parent ?? throw new FileNotFoundException("no README.md beside CsiHostPath.sln above " + AppContext.BaseDirectory);
        string readme = File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        string monitoring = readme[readme.IndexOf("### Monitoring", StringComparison.Ordinal)..];
        monitoring = monitoring[..monitoring.IndexOf("\n### ", 1, StringComparison.Ordinal)];
        return ReadmeTableName().Matches(monitoring).Select(m => m.Groups[1].Value).Distinct();
    }

    [GeneratedRegex(@"^\| `(csi_hostpath_[a-z_]+)`", RegexOptions.Multiline)]
    private static partial Regex ReadmeTableName();

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        _http.Dispose();
        _root.Dispose();
    }

    /// <summary>One scrape in the Prometheus text format: its samples, and the family names its # TYPE lines declare.</summary>
    private sealed partial record Scrape(string Text, IReadOnlyList<Sample> Samples, IReadOnlyList<string> Families)
    {
        public static Scrape Parse(string text)
        {
            var samples = new List<Sample>();
            var families = new List<string>();
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                    families.Add(line.Split(' ')[2]);
                if (line.StartsWith('#'))
                    continue;
                var match = SampleLine().Match(line);
                Assert.True(match.Success, "not a Prometheus text-format sample: " + line);
                var labels = LabelPair().Matches(match.Groups[2].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
                samples.Add(new Sample(match.Groups[1].Value, labels, double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture)));
            }
            return new Scrape(text, samples, families);
        }

        /// <summary>The value of the one sample named <paramref name="name"/> with exactly <paramref name="labels"/>, or null when there is none.</summary>
        public double? Value(string name, params (string Name, string Value)[] labels)
        {
            var matching = Samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).ToList();
            Assert.True(matching.Count <= 1, $"{matching.Count} samples of {name}:\n{Text}");
            return matching.Count == 1 ? matching[0].Value : null;
        }

        [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")]
        private static partial Regex SampleLine();

        [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?""")]
        private static partial Regex LabelPair();
    }

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
