using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;
using Csi.V1;
using Grpc.Core;
using Xunit;

namespace CsiHostPath.Testing;

/// <summary>
/// Rounds of concurrent create/publish/write/unpublish/delete traffic, each ended by a kill -9 of the driver at a
/// seeded point and followed by a restart (on a <see cref="NodeHarness"/>, in a fresh mount namespace). Strict about
/// what counts as the kill: only a refused connection or a stream that ends abruptly, after the kill was issued;
/// any other error status is a failure, as no call of the workload has a reason to fail. Each round must reach its
/// seeded number of acknowledged operations before the kill. After each restart every acknowledged volume is there,
/// whole, with its data and its publications; an acknowledged delete or unpublish stays done; nothing never asked for
/// appears; every image volume has exactly one loop device.
/// </summary>
public sealed class CrashWorkload
{
    private static readonly TimeSpan RoundDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(60);
    private readonly DriverProcess _driver;
    private readonly int _workers;
    private readonly Func<string, int, int, CreateVolumeRequest> _create;
    private readonly Random _random;
    private readonly ConcurrentDictionary<string, CrashVolume> _volumes = new();
    private readonly ConcurrentDictionary<string, byte> _requested = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private long _operations;
    private long _roundOperations;
    private volatile bool _killIssued;
    private int _round = -1;

    /// <param name="create">The CreateVolume request for a worker's i-th volume of a round (name, worker, i).</param>
    public CrashWorkload(DriverProcess driver, int seed, int workers, Func<string, int, int, CreateVolumeRequest>? create = null)
    {
        _driver = driver;
        Seed = seed;
        _workers = workers;
        _create = create ?? ((name, _, _) => Requests.Create(name));
        _random = new Random(seed);
    }

    public int Seed { get; }

    /// <summary>Operations the driver acknowledged, over all rounds.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Each round's own minimum: every worker created, published and wrote to at least one volume.</summary>
    public int MinimumPerRound => _workers * 3;

    public int VolumesRequested => _requested.Count;

    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>Runs one round: traffic, kill -9 once the round's seeded number of operations is acknowledged, restart, checks.</summary>
    public async Task RunRoundAsync()
    {
        int round = ++_round;
        int killAfter = _random.Next(MinimumPerRound, MinimumPerRound * 3);
        int extraMicroseconds = _random.Next(0, 20_000);
        Interlocked.Exchange(ref _roundOperations, 0);
        _killIssued = false;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, _workers).Select(w => Task.Run(() => WorkAsync(round, w, stop.Token))).ToArray();
        var clock = Stopwatch.StartNew();
        while (Interlocked.Read(ref _roundOperations) < killAfter && !workers.All(w => w.IsCompleted) && clock.Elapsed < RoundDeadline)
            await Task.Delay(1);
        // Lands anywhere in the calls in flight, not right after an acknowledgement.
        await Task.Delay(TimeSpan.FromMicroseconds(extraMicroseconds));
        long acknowledged = Interlocked.Read(ref _roundOperations);
        _killIssued = true;
        await _driver.KillAsync();
        stop.Cancel();
        await Task.WhenAll(workers);
        Assert.True(acknowledged >= MinimumPerRound,
            $"seed {Seed} round {round}: only {acknowledged} operations were acknowledged before the kill, at least {MinimumPerRound} were due:\n{string.Join('\n', _failures)}");
        await _driver.StartAsync();
        await VerifyAsync(round);
    }

    /// <summary>Fails the test with every failure seen so far, naming the seed that replays them.</summary>
    public void AssertNoFailures() =>
        Assert.True(_failures.IsEmpty, $"seed {Seed}: {_failures.Count} failures:\n{string.Join('\n', _failures.Take(30))}");

    /// <summary>Unpublishes and deletes a round's volumes through the driver, so the set stays small over a long run.</summary>
    public async Task RemoveRoundAsync(int round)
    {
        foreach (var (name, volume) in _volumes.Where(v => v.Value.Round == round).ToList())
        {
            string id = volume.Id ?? ExpectedVolumeId.For(name);
            foreach (var target in (string[])[volume.Target, volume.Target + "-again"])
            {
                try
                {
                    await _driver.Client.UnpublishOnceFreeAsync(id, target, Deadline);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && (!volume.Created || volume.DeleteSent))
                {
                    // Its create was never carried out, or its delete was: nothing to unpublish.
                }
            }
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            _volumes.TryRemove(name, out _);
        }
    }

    /// <summary>Removes everything, then checks that nothing is left: no volume, no half-made one, no mount, no loop device.</summary>
    public async Task RemoveAllAsync()
    {
        for (int round = 0; round <= _round; round++)
            await RemoveRoundAsync(round);
        Assert.Empty((await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries);
        Assert.Empty(_driver.Node.TargetMounts());
        Assert.Empty(_driver.Node.LoopDevices());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, "volumes")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, ".staging")));
    }

    private async Task WorkAsync(int round, int worker, CancellationToken stop)
    {
        var client = _driver.Client;
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string name = $"crash-{round}-{worker}-{i}";
            _requested[name] = 0;
            var request = _create(name, worker, i);
            var volume = _volumes[name] = new CrashVolume(round, Path.Combine(_driver.PodsDir, name), request.Parameters.GetValueOrDefault("backing") == "image");
            string call = "CreateVolume";
            try
            {
                volume.Id = (await client.Controller.CreateVolumeAsync(request, deadline: Deadline())).Volume.VolumeId;
                volume.Created = true;
                Acknowledged();
                call = "NodePublishVolume";
                await client.Node.NodePublishVolumeAsync(Requests.Publish(volume.Id, volume.Target), deadline: Deadline());
                volume.Published = true;
                Acknowledged();
                call = "write through the target";
                await File.WriteAllTextAsync(Path.Combine(volume.Target, "payload"), name, CancellationToken.None);
                volume.DataWritten = true;
                Acknowledged();
                if (i % 3 == 0)
                    continue;
                call = "NodeUnpublishVolume";
                volume.UnpublishSent = true;
                await _driver.Client.UnpublishOnceFreeAsync(volume.Id, volume.Target, Deadline);
                volume.Unpublished = true;
                Acknowledged();
                if (i % 3 == 1)
                    continue;
                call = "DeleteVolume";
                volume.DeleteSent = true;
                await client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.Id }, deadline: Deadline());
                volume.Deleted = true;
                Acknowledged();
            }
            catch (RpcException e) when (DriverDied(e))
            {
                if (!_killIssued)
                    _failures.Enqueue($"round {round}: {name} {call}: the connection failed before the kill: {e.Status}");
                return;
            }
            catch (RpcException e)
            {
                _failures.Enqueue($"round {round}: {name} {call} answered {e.StatusCode} (\"{e.Status.Detail}\"); nothing in this workload may fail");
                return;
            }
            catch (IOException e)
            {
                _failures.Enqueue($"round {round}: {name} {call}: {e.Message}");
                return;
            }
        }
    }

    private void Acknowledged()
    {
        Interlocked.Increment(ref _operations);
        Interlocked.Increment(ref _roundOperations);
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallDeadline;

    /// <summary>The driver's death as a client sees it: the connection refused, or the stream ending abruptly.</summary>
    public static bool DriverDied(RpcException e)
    {
        for (Exception? cause = e.Status.DebugException; cause is not null; cause = cause.InnerException)
        {
            if (cause is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted })
                return true;
            if (cause is HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded })
                return true;
            if (cause is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
                return true;
        }
        return false;
    }

    private async Task VerifyAsync(int round)
    {
        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        var requestedIds = _requested.Keys.Select(n => ExpectedVolumeId.For(n)).ToHashSet();
        foreach (var id in listed.Keys.Where(id => !requestedIds.Contains(id)))
            _failures.Enqueue($"round {round}: volume {id} was never requested");
        var images = _volumes.Where(v => v.Value.Image).Select(v => v.Value.Id ?? ExpectedVolumeId.For(v.Key)).ToHashSet();
        int imageVolumes = listed.Keys.Count(images.Contains);
        foreach (var (name, volume) in _volumes)
        {
            if (!volume.Created)
                continue;
            bool present = listed.TryGetValue(volume.Id!, out var entry);
            if (volume.Deleted && present)
                _failures.Enqueue($"round {round}: {name} is back after an acknowledged delete");
            if (volume.Unpublished && Mounts.IsMountPoint(volume.Target))
                _failures.Enqueue($"round {round}: {name}'s target is still mounted after an acknowledged unpublish");
            if (volume.Deleted || (volume.DeleteSent && !present))
                continue;
            if (!present)
            {
                _failures.Enqueue($"round {round}: acknowledged volume {name} is missing");
                continue;
            }
            if (entry!.Status.VolumeCondition.Abnormal)
                _failures.Enqueue($"round {round}: {name} is abnormal: {entry.Status.VolumeCondition.Message}");
            if (volume.Published && !volume.UnpublishSent)
            {
                // The pod's mount outlived the driver's namespace: the pod still reads what it wrote.
                if (!Mounts.IsMountPoint(volume.Target))
                    _failures.Enqueue($"round {round}: {name}'s acknowledged publication lost its mount");
                else if (volume.DataWritten && await File.ReadAllTextAsync(Path.Combine(volume.Target, "payload")) != name)
                    _failures.Enqueue($"round {round}: {name} reads other data through its target");
            }
            if (volume.DataWritten && volume.Image)
                await CheckRepublishedAsync(round, name, volume);
            else if (volume.DataWritten)
                CheckOnDisk(round, name, volume);
        }
        if (_driver.Node.LoopDevices().Count != imageVolumes)
            _failures.Enqueue($"round {round}: {_driver.Node.LoopDevices().Count} loop devices for {imageVolumes} image volumes");
    }

    /// <summary>A directory volume's data, read where the driver keeps it.</summary>
    private void CheckOnDisk(int round, string name, CrashVolume volume)
    {
        string payload = Path.Combine(_driver.DataDir, "volumes", volume.Id!, "data", "payload");
        if (!File.Exists(payload) || File.ReadAllText(payload) != name)
            _failures.Enqueue($"round {round}: {name} lost the data written before the kill");
    }

    /// <summary>An image volume published again by a new pod after the restart: the data written before the kill is there.</summary>
    private async Task CheckRepublishedAsync(int round, string name, CrashVolume volume)
    {
        string again = volume.Target + "-again";
        try
        {
            await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.Id!, again));
            string payload = Path.Combine(again, "payload");
            if (!File.Exists(payload) || await File.ReadAllTextAsync(payload) != name)
                _failures.Enqueue($"round {round}: {name} lost the data written before the kill");
            await _driver.Client.UnpublishOnceFreeAsync(volume.Id!, again, Deadline);
        }
        catch (RpcException e)
        {
            _failures.Enqueue($"round {round}: {name} cannot be published again after the restart: {e.Status}");
        }
    }

    private sealed class CrashVolume(int round, string target, bool image)
    {
        public int Round { get; } = round;

        public string Target { get; } = target;

        public bool Image { get; } = image;

        public string? Id { get; set; }

        public volatile bool Created;

        public volatile bool Published;

        public volatile bool DataWritten;

        public volatile bool UnpublishSent;

        public volatile bool Unpublished;

        public volatile bool DeleteSent;

        public volatile bool Deleted;
    }
}
