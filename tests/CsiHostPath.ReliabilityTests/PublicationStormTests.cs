using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 20's seeded storm: concurrent create, publish, unpublish, delete, expand, stats, get and list over a small pool
/// of volumes (directory, ext4 image, block image) and targets shared between them, with kill -9s that land while calls
/// are in flight (the node harness: the next driver starts in a fresh mount namespace), then the invariants: every
/// mount at a pool target shows the volume whose record names it and the reverse; ListVolumes equals the disk; each
/// image volume has one loop device, a deleted one none; recorded size, image length and device size agree; no
/// INTERNAL, UNKNOWN or call over 30 s except the calls a kill cut. The seed is printed first; CHP_STORM_SEED replays
/// each worker's calls, CHP_STORM_SECONDS makes the run longer than CI's.
/// </summary>
public sealed class PublicationStormTests(ITestOutputHelper output) : DriverTest
{
    private const long MiB = 1 << 20;
    private const int Workers = 8;
    private static readonly StatusCode[] Bugs = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DeadlineExceeded];
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(30);

    /// <summary>The pool: name and kind (a directory, an ext4 image, or a raw block image).</summary>
    private static readonly (string Name, string Kind)[] Pool =
        [("storm-dir-0", "directory"), ("storm-dir-1", "directory"), ("storm-ext4", "ext4"), ("storm-block-0", "block"), ("storm-block-1", "block")];

    private string[] _mountTargets = [];
    private string[] _blockTargets = [];

    // Odd while a kill and restart is under way; a call that starts in an odd epoch or ends in another one was cut by a kill.
    private int _epoch;
    private int _inFlight;

    [Fact]
    public async Task Storm_KilledMidCall_EveryMountIsItsRecordsVolume_SizesAgree_AndNothingInternal()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CHP_STORM_SEED"), out int s) ? s : Random.Shared.Next();
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("CHP_STORM_SECONDS"), CultureInfo.InvariantCulture, out double d) ? d : 12;
        output.WriteLine($"seed={seed} (replay with CHP_STORM_SEED={seed})");
        _mountTargets = [.. Enumerable.Range(0, 2).Select(i => Path.Combine(Driver.PodsDir, "p" + i, "volumes", "kubernetes.io~csi", "pv", "mount"))];
        // kubelet's block publish path is a file, volumeDevices/publish/<pv>/<pod uid>; two pods share it here.
        _blockTargets = [.. Enumerable.Range(0, 2).Select(i => Path.Combine(Driver.PodsDir, "plugins", "volumeDevices", "publish", "pv", "pod" + i))];
        foreach (var target in _mountTargets.Concat(_blockTargets))
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var bugs = new ConcurrentQueue<string>();
        var cut = new ConcurrentQueue<string>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);

        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(new Random(seed * 31 + w), until, bugs, cut))).ToArray();
        // Two kills, each at a seeded moment of its half of the storm, once calls are in flight.
        var killer = new Random(seed);
        var start = DateTime.UtcNow;
        int killsMidCall = 0;
        for (int half = 0; half < 2; half++)
        {
            var at = start + TimeSpan.FromSeconds(seconds * (half + 0.1 + killer.NextDouble() * 0.6) / 2);
            if (at > DateTime.UtcNow)
                await Task.Delay(at - DateTime.UtcNow);
            while (Volatile.Read(ref _inFlight) == 0 && DateTime.UtcNow < until)
                await Task.Delay(1);
            Interlocked.Increment(ref _epoch);
            if (Volatile.Read(ref _inFlight) > 0)
                killsMidCall++;
            await Driver.RestartAfterKillAsync();
            Interlocked.Increment(ref _epoch);
        }
        await Task.WhenAll(workers);
        output.WriteLine($"{killsMidCall} kills with calls in flight; {cut.Count} calls cut by a kill");

        foreach (var bug in bugs)
            output.WriteLine(bug);
        Assert.Equal(2, killsMidCall);
        Assert.Empty(bugs);
        await AssertInvariantsAsync();
    }

    private async Task WorkAsync(Random random, DateTime until, ConcurrentQueue<string> bugs, ConcurrentQueue<string> cut)
    {
        while (DateTime.UtcNow < until)
        {
            var (name, kind) = Pool[random.Next(Pool.Length)];
            string[] targets = kind == "block" ? _blockTargets : _mountTargets;
            string target = targets[random.Next(targets.Length)];
            // Publish and unpublish weigh most: the shared targets are what the storm is about.
            int op = random.Next(12) switch { < 8 and var n => n, 8 or 9 => 1, _ => 2 };
            long expandTo = (16 + random.Next(17)) * MiB;
            int epoch = Volatile.Read(ref _epoch);
            Interlocked.Increment(ref _inFlight);
            var watch = Stopwatch.StartNew();
            try
            {
                await CallAsync(op, name, kind, target, expandTo);
            }
            catch (Exception e) when (epoch % 2 == 1 || Volatile.Read(ref _epoch) != epoch)
            {
                cut.Enqueue($"op {op} on {name}: {e.Message}");
            }
            catch (RpcException e) when (Bugs.Contains(e.StatusCode))
            {
                bugs.Enqueue($"op {op} on {name} at {target}: {e.Status}");
            }
            catch (RpcException)
            {
                // The spec's answers to a race or a refused request: ABORTED, NOT_FOUND, FAILED_PRECONDITION, ...
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
            if (watch.Elapsed > CallLimit && Volatile.Read(ref _epoch) == epoch)
                bugs.Enqueue($"op {op} on {name} took {watch.Elapsed}");
        }
    }

    private async Task CallAsync(int op, string name, string kind, string target, long expandTo)
    {
        var client = Driver.Client;
        string id = ExpectedVolumeId.For(name);
        var deadline = DateTime.UtcNow + CallLimit;
        switch (op)
        {
            case 0:
                var create = kind == "directory" ? Requests.Create(name, 16 * MiB) : ImageNode.CreateRequest(name, 16 * MiB, kind);
                await client.Controller.CreateVolumeAsync(create, deadline: deadline);
                break;
            case 1:
                var publish = Requests.Publish(id, target);
                if (kind == "block")
                    publish.VolumeCapability.Block = new VolumeCapability.Types.BlockVolume();
                await client.Node.NodePublishVolumeAsync(publish, deadline: deadline);
                break;
            case 2:
                await client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target }, deadline: deadline);
                break;
            case 3:
                await client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id }, deadline: deadline);
                break;
            case 4:
                await client.Controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest { VolumeId = id, CapacityRange = new CapacityRange { RequiredBytes = expandTo } }, deadline: deadline);
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

    private async Task AssertInvariantsAsync()
    {
        var records = Records();
        var listed = (await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Select(e => e.Volume.VolumeId).ToHashSet();
        Assert.Equal(records.Keys.ToHashSet(), listed);

        // What each existing volume shows at a target it is mounted at.
        var shows = records.Keys.ToDictionary(id => id, Signature);
        foreach (var target in _mountTargets.Concat(_blockTargets))
        {
            var owners = records.Where(r => r.Value.Contains(target)).Select(r => r.Key).ToList();
            if (!Mounts.IsMountPoint(target))
            {
                Assert.Empty(owners);
                continue;
            }
            string shown = TargetSignature(target);
            Assert.Equal(shows.Where(v => v.Value == shown).Select(v => v.Key), owners);
            Assert.Single(owners);
            Assert.Equal(1, Mounts.CountAt(target));
        }

        // One loop device per image volume; none of a deleted one (its image file gone, or still attached though deleted).
        int images = 0;
        foreach (var (name, kind) in Pool.Where(p => p.Kind != "directory"))
        {
            string id = ExpectedVolumeId.For(name);
            if (!records.ContainsKey(id))
                continue;
            images++;
            string image = Path.Combine(Driver.DataDir, "volumes", id, "image");
            string device = Assert.Single(ImageNode.LoopDevicesBackedBy(image));
            long recorded = (await Driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id })).Volume.CapacityBytes;
            Assert.Equal(recorded, new FileInfo(image).Length);
            Assert.Equal(recorded, ImageNode.DeviceSize(device));
        }
        Assert.Equal(images, Driver.Node.LoopDevices().Count);
        output.WriteLine($"at the end: {records.Count} volumes ({images} images), {_mountTargets.Concat(_blockTargets).Count(Mounts.IsMountPoint)} targets mounted");
    }

    /// <summary>
    /// What a mount of the volume shows, as <see cref="TargetSignature"/> reads a target: the data dir's device and inode
    /// for a directory volume, the root (inode 2) of the filesystem on its loop device for an ext4 image, the loop
    /// device's number for a block volume.
    /// </summary>
    private string Signature(string id)
    {
        string kind = Pool.Single(p => ExpectedVolumeId.For(p.Name) == id).Kind;
        string volumeDir = Path.Combine(Driver.DataDir, "volumes", id);
        if (kind == "directory")
            return Stat("%Hd:%Ld %i", Path.Combine(volumeDir, "data"));
        var devices = ImageNode.LoopDevicesBackedBy(Path.Combine(volumeDir, "image"));
        if (devices.Count != 1)
            return $"{devices.Count} loop devices";
        string number = File.ReadAllText(Path.Combine("/sys/block", Path.GetFileName(devices[0]), "dev")).Trim();
        return kind == "block" ? "block " + number : number + " 2";
    }

    private static string TargetSignature(string target)
    {
        string[] fields = Stat("%F|%Hr:%Lr|%Hd:%Ld %i", target).Split('|');
        return fields[0] == "block special file" ? "block " + fields[1] : fields[2];
    }

    private static string Stat(string format, string path) => LoopFileSystem.Run("stat", "--format", format, path).Trim();

    /// <summary>Each volume's recorded publications, read from its record on disk.</summary>
    private Dictionary<string, string[]> Records()
    {
        var result = new Dictionary<string, string[]>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(Driver.DataDir, "volumes")))
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
