using System.Collections.Concurrent;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// kill -9 at a random moment of concurrent create/publish/write/unpublish/delete traffic, CHP_SOAK_KILLS times.
/// After every restart each acknowledged volume is there with its data, an acknowledged delete stays deleted,
/// nothing never asked for appears; at the end no mount and no loop device is left behind.
/// </summary>
public sealed class CrashSoakTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Workers = 6;
    private readonly TempRoot _root = new("chp-soak");
    private readonly ConcurrentDictionary<string, SoakVolume> _volumes = new();
    private readonly ConcurrentDictionary<string, byte> _requested = new();
    private readonly List<string> _losses = [];
    private DriverProcess _driver = null!;
    private long _operations;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task KillNineDuringTraffic_RestartEachTime_LosesNothingAndLeaksNothing()
    {
        int kills = Scale.SoakKills;
        int seed = Scale.FuzzSeed;
        var random = new Random(seed);
        for (int round = 0; round < kills; round++)
        {
            using var stop = new CancellationTokenSource();
            int r = round;
            var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(r, w, stop.Token))).ToArray();
            await Task.Delay(random.Next(20, 300));
            await _driver.KillAsync();
            stop.Cancel();
            await Task.WhenAll(workers);
            await _driver.StartAsync();
            await VerifyAsync(round);
            await RemoveRoundAsync(round - 1);
        }
        await RemoveRoundAsync(kills - 1);
        foreach (var id in (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Select(e => e.Volume.VolumeId))
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });

        Results.Report(output, "crash-soak", $"kills={kills} operations={_operations} volumes={_requested.Count} losses={_losses.Count} seed={seed}");
        Assert.True(_losses.Count == 0, string.Join('\n', _losses));
        Assert.Empty(Mounts.Beneath(_root.Path));
        Assert.Empty(LoopDevicesBacking(_root.Path));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, "volumes")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, ".staging")));
    }

    private async Task WorkAsync(int round, int worker, CancellationToken stop)
    {
        var client = _driver.Client;
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string name = $"soak-{round}-{worker}-{i}";
            _requested[name] = 0;
            var volume = _volumes[name] = new SoakVolume(round, _root.Combine("targets", name));
            try
            {
                volume.Id = (await client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume.VolumeId;
                volume.Created = true;
                Interlocked.Increment(ref _operations);
                await client.Node.NodePublishVolumeAsync(Requests.Publish(volume.Id, volume.Target));
                Interlocked.Increment(ref _operations);
                await File.WriteAllTextAsync(Path.Combine(volume.Target, "payload"), name, CancellationToken.None);
                volume.DataWritten = true;
                if (i % 3 == 0)
                    continue;
                await client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.Id, TargetPath = volume.Target });
                Interlocked.Increment(ref _operations);
                if (i % 3 == 1)
                    continue;
                volume.DeleteSent = true;
                await client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.Id });
                volume.Deleted = true;
                Interlocked.Increment(ref _operations);
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or UnauthorizedAccessException)
            {
                // The driver died under this call: what it acknowledged before is what the checks hold it to.
                return;
            }
        }
    }

    private async Task VerifyAsync(int round)
    {
        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        var requestedIds = _requested.Keys.Select(n => ExpectedVolumeId.For(n)).ToHashSet();
        foreach (var id in listed.Keys.Where(id => !requestedIds.Contains(id)))
            _losses.Add($"round {round}: volume {id} was never requested");
        foreach (var (name, volume) in _volumes)
        {
            if (!volume.Created)
                continue;
            bool present = listed.TryGetValue(volume.Id!, out var entry);
            if (volume.Deleted && present)
                _losses.Add($"round {round}: {name} is back after an acknowledged delete");
            if (volume.Deleted || (volume.DeleteSent && !present))
                continue;
            if (!present)
            {
                _losses.Add($"round {round}: acknowledged volume {name} is missing");
                continue;
            }
            if (entry!.Status.VolumeCondition.Abnormal)
                _losses.Add($"round {round}: {name} is abnormal: {entry.Status.VolumeCondition.Message}");
            string payload = Path.Combine(_driver.DataDir, "volumes", volume.Id!, "data", "payload");
            if (volume.DataWritten && (!File.Exists(payload) || await File.ReadAllTextAsync(payload) != name))
                _losses.Add($"round {round}: {name} lost the data written before the kill");
        }
    }

    /// <summary>Unpublishes and deletes one round's volumes, through the driver, so the set stays small over a long soak.</summary>
    private async Task RemoveRoundAsync(int round)
    {
        foreach (var (name, volume) in _volumes.Where(v => v.Value.Round == round).ToList())
        {
            string id = volume.Id ?? ExpectedVolumeId.For(name);
            try
            {
                await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = volume.Target });
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // Its create was never carried out: nothing to unpublish.
            }
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            _volumes.TryRemove(name, out _);
        }
    }

    private static IEnumerable<string> LoopDevicesBacking(string root) =>
        Directory.Exists("/sys/block")
            ? Directory.GetDirectories("/sys/block", "loop*")
                .Select(d => Path.Combine(d, "loop", "backing_file"))
                .Where(f => File.Exists(f) && File.ReadAllText(f).StartsWith(root, StringComparison.Ordinal))
            : [];


    private sealed class SoakVolume(int round, string target)
    {
        public int Round { get; } = round;

        public string Target { get; } = target;

        public string? Id { get; set; }

        public volatile bool Created;

        public volatile bool DataWritten;

        public volatile bool DeleteSent;

        public volatile bool Deleted;
    }
}
