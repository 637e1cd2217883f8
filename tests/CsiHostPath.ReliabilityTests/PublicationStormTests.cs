using System.Collections.Concurrent;
using System.Text.Json;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 20's seeded storm: concurrent create, publish, unpublish, delete, expand, stats, get and list over a small pool
/// of volumes and targets shared between them, a kill -9 in the middle (the node harness: the next driver starts in a
/// fresh mount namespace), then the invariants. The seed is printed first; CHP_STORM_SEED replays one,
/// CHP_STORM_SECONDS makes the run longer than CI's few seconds per phase.
/// </summary>
public sealed class PublicationStormTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly StatusCode[] Bugs = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DeadlineExceeded];
    private readonly TempRoot _root = new("chp-storm");
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartOnNodeAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Storm_KillBetweenPhases_EveryMountIsItsRecordsVolumeAndNothingInternal()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CHP_STORM_SEED"), out int s) ? s : Random.Shared.Next();
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("CHP_STORM_SECONDS"), out double d) ? d : 4;
        output.WriteLine($"seed={seed} (replay with CHP_STORM_SEED={seed})");
        string[] names = ["storm-0", "storm-1", "storm-2", "storm-3"];
        string[] targets = [.. Enumerable.Range(0, 2).Select(i => Path.Combine(_driver.PodsDir, "p" + i, "volumes", "kubernetes.io~csi", "pv", "mount"))];
        foreach (var target in targets)
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var bugs = new ConcurrentQueue<string>();

        await RunPhaseAsync(seed, seconds, names, targets, bugs);
        await _driver.RestartAfterKillAsync();
        await RunPhaseAsync(seed + 1, seconds, names, targets, bugs);
        await _driver.RestartAfterKillAsync();

        Assert.Empty(bugs);
        var records = Records();
        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Select(e => e.Volume.VolumeId).ToHashSet();
        Assert.Equal(records.Keys.ToHashSet(), listed);
        foreach (var target in targets)
        {
            var owners = records.Where(r => r.Value.Contains(target)).Select(r => r.Key).ToList();
            if (!Mounts.IsMountPoint(target))
            {
                Assert.Empty(owners);
                continue;
            }
            string shown = File.ReadAllText(Path.Combine(target, "owner"));
            Assert.Equal([shown], owners);
            Assert.Equal(1, Mounts.CountAt(target));
        }
    }

    private async Task RunPhaseAsync(int seed, double seconds, string[] names, string[] targets, ConcurrentQueue<string> bugs)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed * 31 + w);
            while (DateTime.UtcNow < until)
            {
                string name = names[random.Next(names.Length)];
                string id = VolumeIdOf(name);
                string target = targets[random.Next(targets.Length)];
                // Publish and unpublish weigh most: the shared targets are what the storm is about.
                int op = random.Next(12) switch { < 8 and var n => n, 8 or 9 => 1, _ => 2 };
                try
                {
                    await CallAsync(op, name, id, target);
                }
                catch (RpcException e) when (Bugs.Contains(e.StatusCode))
                {
                    bugs.Enqueue($"op {op} on {name} at {target}: {e.Status}");
                }
                catch (RpcException)
                {
                    // The spec's answers to a race or a refused request: ABORTED, NOT_FOUND, FAILED_PRECONDITION, ...
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
    }

    private readonly ConcurrentDictionary<string, string> _ids = new();

    private string VolumeIdOf(string name) => _ids.GetValueOrDefault(name, "00000000000000000000000000000000");

    private async Task CallAsync(int op, string name, string id, string target)
    {
        var client = _driver.Client;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        switch (op)
        {
            case 0:
                var volume = (await client.Controller.CreateVolumeAsync(Requests.Create(name), deadline: deadline)).Volume;
                _ids[name] = volume.VolumeId;
                string data = Path.Combine(_driver.DataDir, "volumes", volume.VolumeId, "data");
                if (Directory.Exists(data))
                    await File.WriteAllTextAsync(Path.Combine(data, "owner"), volume.VolumeId);
                break;
            case 1:
                await client.Node.NodePublishVolumeAsync(Requests.Publish(id, target), deadline: deadline);
                break;
            case 2:
                await client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target }, deadline: deadline);
                break;
            case 3:
                await client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id }, deadline: deadline);
                break;
            case 4:
                await client.Controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest { VolumeId = id, CapacityRange = new CapacityRange { RequiredBytes = 2 << 20 } }, deadline: deadline);
                break;
            case 5:
                await client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target }, deadline: deadline);
                break;
            case 6:
                await client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }, deadline: deadline);
                break;
            default:
                await client.Controller.ListVolumesAsync(new ListVolumesRequest(), deadline: deadline);
                break;
        }
    }

    /// <summary>Each volume's recorded publications, read from its record on disk.</summary>
    private Dictionary<string, string[]> Records()
    {
        var result = new Dictionary<string, string[]>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(_driver.DataDir, "volumes")))
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "volume.json")));
            var publications = json.RootElement.EnumerateObject().FirstOrDefault(p => p.Name.Equals("publications", StringComparison.OrdinalIgnoreCase));
            result[Path.GetFileName(dir)] = publications.Value.ValueKind == JsonValueKind.Array
                ? [.. publications.Value.EnumerateArray().Select(p => p.EnumerateObject().Single(f => f.Name.Equals("targetPath", StringComparison.OrdinalIgnoreCase)).Value.GetString()!)]
                : [];
        }
        return result;
    }
}
