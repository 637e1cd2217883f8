using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Csi.V1;
using CsiHostPath.Client;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// What kubelet and the sidecars rely on from the socket itself, whatever the RPCs do: the real driver process,
/// .NET's gRPC client over the real unix socket.
/// </summary>
public sealed class ServingTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new();

    private string SocketPath => _root.Combine("csi.sock");

    public void Dispose() => _root.Dispose();


    [Fact]
    public async Task Start_StaleSocketLeftByADeadDriver_IsReplacedAndServed()
    {
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(SocketPath));
            dead.Listen();
        }
        Assert.False(CsiClient.CanConnect(SocketPath));

        await using var driver = await DriverProcess.StartAsync(_root);

        var info = await driver.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.Equal(DriverProcess.DriverName, info.Name);
    }

    [Fact]
    public async Task Start_SocketServedByALiveDriver_ExitsWithAReasonAndTheLiveOneKeepsServing()
    {
        await using var live = await DriverProcess.StartAsync(_root);
        var second = new ProcessStartInfo(DriverProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--endpoint", SocketPath, "--data-dir", _root.Combine("second-data"), "--node-id", DriverProcess.NodeId])
            second.ArgumentList.Add(arg);

        using var process = Process.Start(second)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Deadline);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("another process is already serving " + SocketPath, await output + await error, StringComparison.Ordinal);
        await live.Client.Identity.ProbeAsync(new ProbeRequest());
    }

    [Fact]
    public async Task Socket_OnlyOwnerAndGroupMayConnect()
    {
        await using var driver = await DriverProcess.StartAsync(_root);

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(driver.SocketPath));
    }

    [Fact]
    public async Task CreateVolume_MessageOver1MiB_IsResourceExhaustedAndOneJustUnderIsRead()
    {
        await using var driver = await DriverProcess.StartAsync(_root);
        const int MiB = 1 << 20;

        var tooLarge = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.CreateVolumeAsync(Requests.Create(new string('x', MiB))));
        // Read whole and parsed: the over-long name is named, so the cap is on the message, not below it.
        var underCap = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.CreateVolumeAsync(Requests.Create(new string('x', MiB - 1024))));

        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, underCap.StatusCode);
        Assert.StartsWith("name ", underCap.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_WhoseMessageQuotesALongField_HasItsDetailCappedAndKeepsItsCode()
    {
        await using var driver = await DriverProcess.StartAsync(_root);
        string token = new('z', 100_000);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = token }));

        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.InRange(error.Status.Detail.Length, 100, 1025);
        Assert.EndsWith("…", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCall_IsLoggedWithMethodVolumeStatusAndDuration()
    {
        await using var driver = await DriverProcess.StartAsync(_root);

        var created = await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-logged"));
        await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Node.NodePublishVolumeAsync(Requests.Publish("0123456789abcdef0123456789abcdef", _root.Combine("target"))));

        await PollAsync(() => driver.Output.Contains("NodePublishVolume volume=0123456789abcdef0123456789abcdef status=NotFound duration=", StringComparison.Ordinal),
            () => "no NodePublishVolume line in:\n" + driver.Output);
        Assert.Matches(@"CreateVolume volume=pvc-logged status=OK duration=\d+\.\dms", driver.Output);
        Assert.NotEmpty(created.Volume.VolumeId);
    }

    [Fact]
    public async Task Sigterm_CallInFlight_IsAnsweredThenTheSocketIsRemoved()
    {
        await using var driver = await DriverProcess.StartAsync(_root);
        var (client, held, call) = await StartHeldCreateVolumeAsync(driver, "pvc-in-flight");
        using var _ = client;

        driver.Terminate();
        await PollAsync(() => !CsiClient.CanConnect(driver.SocketPath), () => "the driver still accepts connections after SIGTERM");
        held.Release.SetResult();
        var response = await call.WaitAsync(Deadline);

        Assert.True(Directory.Exists(Path.Combine(driver.DataDir, "volumes", response.Volume.VolumeId, "data")));
        Assert.Equal(0, await driver.WaitForExitAsync(new CancellationTokenSource(Deadline).Token));
        Assert.False(Path.Exists(driver.SocketPath));
        Assert.Equal(1, client.Connects);
        // What an operator reads in kubectl logs: the signal, the call that was drained, the socket gone.
        Assert.Contains("Stopping on SIGTERM or SIGINT: no new calls; 1 calls in flight", driver.Output);
        Assert.Contains($"Stopped: 1 calls drained, 0 cut at the grace period; socket {driver.SocketPath} removed=True", driver.Output);
    }

    [Fact]
    public async Task Sigterm_CallThatNeverEnds_IsCutAfterTheGraceAndTheDriverExits()
    {
        await using var driver = await DriverProcess.StartAsync(_root);
        var (client, held, call) = await StartHeldCreateVolumeAsync(driver, "pvc-never-ends");
        using var _ = client;
        var stopwatch = Stopwatch.StartNew();

        driver.Terminate();
        await driver.WaitForExitAsync(new CancellationTokenSource(Deadline).Token);

        // The command line gives the driver 2 s after SIGTERM; kubelet would give the container 30.
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(Deadline));
        Assert.False(Path.Exists(driver.SocketPath));
        held.Release.SetResult();
    }

    // Kestrel closes a connection with no stream open after its KeepAliveTimeout (130 s by default); csi-lib-utils'
    // ExitOnConnectionLoss makes every sidecar exit when that happens. The driver sets no timeout at all. So that the
    // test need not idle for minutes, the second test gives a driver a 1 s timeout through a hidden flag: it shows
    // that this idle period is long enough to see a closed connection, which the first test then does not see.
    private static readonly TimeSpan IdlePeriod = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task IdleConnection_ByDefault_StaysOpenAndAnswersItsNextCall()
    {
        await using var driver = await DriverProcess.StartAsync(_root);

        Assert.Equal(1, await ConnectsAfterIdlingAsync(driver));
    }

    [Fact]
    public async Task IdleConnection_WithAFiniteIdleTimeout_IsClosedAndTheClientConnectsAgain()
    {
        await using var driver = await DriverProcess.StartAsync(_root, "--connection-idle-timeout-ms", "1000");

        Assert.Equal(2, await ConnectsAfterIdlingAsync(driver));
    }

    private async Task<int> ConnectsAfterIdlingAsync(DriverProcess driver)
    {
        using var client = new CsiClient(driver.SocketPath);
        await client.Identity.ProbeAsync(new ProbeRequest());
        Assert.Equal(1, client.Connects);

        await Task.Delay(IdlePeriod);
        await client.Identity.ProbeAsync(new ProbeRequest());
        return client.Connects;
    }

    [Fact]
    public async Task Start_WithManyRecords_SocketOpensBeforeTheyLoadAndTheFirstCallSeesThemAll()
    {
        const int count = 2_000;
        string dataDir = _root.Combine("data");
        WriteDirectoryVolumeRecords(dataDir, count - 1);
        // Loading cannot finish before this record is written, which the test does only once it has connected.
        var (held, heldJson) = VolumeRecordFiles.HeldDirectoryVolume(dataDir, "pvc-gate-held");
        var start = new ProcessStartInfo(DriverProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--endpoint", SocketPath, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId])
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            while (!CsiClient.CanConnect(SocketPath))
            {
                if (stopwatch.Elapsed > Deadline || process.HasExited)
                    Assert.Fail("the driver never listened: " + await error);
                await Task.Delay(1);
            }
            var connectedAt = DateTime.UtcNow;
            using var client = new CsiClient(SocketPath);
            var call = client.Controller.ListVolumesAsync(new ListVolumesRequest()).ResponseAsync;
            await File.WriteAllTextAsync(held, heldJson);
            var list = await call.WaitAsync(Deadline);

            Assert.Equal(count, list.Entries.Count);
            // SIGTERM, so that the console logger flushes its lines.
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            await process.WaitForExitAsync(new CancellationTokenSource(Deadline).Token);
            var loaded = System.Text.RegularExpressions.Regex.Match(await output, @"^(\S+) info: \S+VolumeRecovery\[401\] Loaded 2000 volumes$",
                System.Text.RegularExpressions.RegexOptions.Multiline);
            Assert.True(loaded.Success, await output);
            var loadedAt = DateTime.Parse(loaded.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            Assert.True(connectedAt < loadedAt, $"connected at {connectedAt:O}, records loaded at {loadedAt:O}");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    /// <summary>Enough directory volume records that loading them takes a while (docs/performance.md: 5,000 take ~100 ms in the AOT build).</summary>
    private static void WriteDirectoryVolumeRecords(string dataDir, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var (path, json) = VolumeRecordFiles.DirectoryVolume(dataDir, $"pvc-gate-{i:D5}");
            File.WriteAllText(path, json);
        }
    }

    /// <summary>A CreateVolume whose request the driver has begun to read and whose body's second half waits for <c>Release</c>.</summary>
    private static async Task<(CsiClient Client, HeldBodyHandler Held, Task<CreateVolumeResponse> Call)> StartHeldCreateVolumeAsync(DriverProcess driver, string name)
    {
        HeldBodyHandler held = null!;
        var client = new CsiClient(driver.SocketPath, inner => held = new HeldBodyHandler(inner));
        var call = client.Controller.CreateVolumeAsync(Requests.Create(name)).ResponseAsync;
        await held.BodyStarted.Task.WaitAsync(Deadline);
        // HTTP/2 frames of one connection are read in order: once this is answered, the held call's stream is open.
        await client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        return (client, held, call);
    }

    private static async Task PollAsync(Func<bool> condition, Func<string> failure)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < Deadline, failure());
            await Task.Delay(5);
        }
    }

    /// <summary>Sends the first half of a CreateVolume's body, then holds the rest until released: a call in flight for as long as the test wants.</summary>
    private sealed class HeldBodyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public TaskCompletionSource BodyStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/CreateVolume", StringComparison.Ordinal))
                request.Content = new HeldContent(request.Content!, this);
            return base.SendAsync(request, cancellationToken);
        }

        private sealed class HeldContent : HttpContent
        {
            private readonly HttpContent _inner;
            private readonly HeldBodyHandler _handler;

            public HeldContent(HttpContent inner, HeldBodyHandler handler)
            {
                _inner = inner;
                _handler = handler;
                foreach (var header in inner.Headers)
                    Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            {
                byte[] body = await _inner.ReadAsByteArrayAsync();
                await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
                await stream.FlushAsync();
                _handler.BodyStarted.TrySetResult();
                await _handler.Release.Task;
                await stream.WriteAsync(body.AsMemory(body.Length / 2));
            }

            protected override bool TryComputeLength(out long length)
            {
                length = 0;
                return false;
            }
        }
    }
}
