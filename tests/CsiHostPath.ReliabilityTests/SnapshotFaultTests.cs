using System.Security.Cryptography;
using System.Text;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using SyscallFault = CsiHostPath.ReliabilityTests.Infrastructure.SyscallFault;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// kill -9 at each step of CreateSnapshot and DeleteSnapshot, exactly at a chosen system call (<see cref="SyscallFault"/>),
/// with the driver on the node harness, so the restart is in a fresh mount namespace as after a container restart. Then:
/// nothing half-made is listed or holds space in .staging/, .trash/ or snapshots/; an image volume's filesystem that
/// the kill left frozen is thawed (the pod's writes go through); the CO's retry of the same name succeeds with the
/// same snapshot id and holds what the volume held; and the snapshot acknowledged before the kill is still there.
/// </summary>
public sealed class SnapshotFaultTests : DriverTest
{
    private const long MiB = 1 << 20;
    private const string Rename = "rename,renameat,renameat2";
    private const string Name = "snap-fault";

    public static TheoryData<string, string, string, int> CreateSteps => new()
    {
        // The filesystem frozen, the copy not begun: the first open of the image.
        { "image", "openat", "source image", 1 },
        // Frozen, mid-copy: the second extent of the image.
        { "image", "copy_file_range", "source image", 2 },
        // Copied and recorded, before the commit rename.
        { "image", Rename, "staging dir", 1 },
        // Committed, still frozen: FITHAW is the mount root's second ioctl, after FIFREEZE.
        { "image", "ioctl", "mount dir", 2 },
        // Mid-walk of the source tree.
        { "directory", "getdents64", "source data", 2 },
        { "directory", Rename, "staging dir", 1 },
        // Committed, the snapshots dir not yet synced, the call not answered.
        { "directory", "fsync", "snapshots dir", 1 },
    };

    [Theory]
    [MemberData(nameof(CreateSteps))]
    public async Task CreateSnapshot_KilledAtAStep_RestartCleansUp_ThawsAndTheRetryGivesTheSameSnapshot(string backing, string syscalls, string where, int when)
    {
        var (volume, target) = await CreatePublishedAsync(backing);
        await File.WriteAllTextAsync(Path.Combine(target, "marker"), "before");
        var kept = await SnapshotAsync("snap-kept", volume);
        await File.WriteAllTextAsync(Path.Combine(target, "marker"), "snapshotted");
        string snapshotId = ExpectedSnapshotId(Name);
        string path = where switch
        {
            "source image" => Path.Combine(Driver.DataDir, "volumes", volume, "image"),
            "source data" => Path.Combine(Driver.DataDir, "volumes", volume, "data"),
            "mount dir" => Path.Combine(Driver.DataDir, "volumes", volume, "mount"),
            "staging dir" => Path.Combine(Driver.DataDir, ".staging", snapshotId),
            _ => Path.Combine(Driver.DataDir, "snapshots"),
        };

        using (SyscallFault.KillAt(Driver.Pid, syscalls, when, Driver.DriverPath(path)))
            await CrashDuringAsync(() => SnapshotAsync(Name, volume));
        await Driver.StartAsync();

        // The pod's filesystem is writable again: a write on a frozen one blocks in open(2) itself.
        var write = Task.Run(() => File.WriteAllText(Path.Combine(target, "after-restart"), "thawed"));
        bool thawed = await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(30))) == write;
        if (!thawed)
            LoopFileSystem.Run("fsfreeze", "--unfreeze", target);
        Assert.True(thawed, "still frozen after the restart:\n" + Driver.Output);
        var listed = await ListedAsync();
        Assert.Contains(kept.SnapshotId, listed);
        Assert.Subset(new HashSet<string> { kept.SnapshotId, snapshotId }, listed);
        AssertNothingHalfMade(listed);

        var retried = await SnapshotAsync(Name, volume);
        Assert.Equal(snapshotId, retried.SnapshotId);
        Assert.Equal(snapshotId, (await SnapshotAsync(Name, volume)).SnapshotId);
        Assert.Equal(new HashSet<string> { kept.SnapshotId, snapshotId }, await ListedAsync());
        AssertNothingHalfMade(await ListedAsync());
        Assert.Equal("before", await RestoredMarkerAsync(kept, backing, "restored-kept"));
        Assert.Equal("snapshotted", await RestoredMarkerAsync(retried, backing, "restored-retried"));
    }

    public static TheoryData<string, string, int> DeleteSteps => new()
    {
        // Before the commit rename into .trash/.
        { Rename, "snapshot dir", 1 },
        // Renamed out, the snapshots dir not yet synced, the trash not yet removed.
        { "fsync", "snapshots dir", 1 },
    };

    [Theory]
    [MemberData(nameof(DeleteSteps))]
    public async Task DeleteSnapshot_KilledAtAStep_RetryDeletesIt_AndTheOtherSnapshotStays(string syscalls, string where, int when)
    {
        var (volume, target) = await CreatePublishedAsync("image");
        await File.WriteAllTextAsync(Path.Combine(target, "marker"), "before");
        var kept = await SnapshotAsync("snap-kept", volume);
        var doomed = await SnapshotAsync(Name, volume);
        string path = where == "snapshot dir"
            ? Path.Combine(Driver.DataDir, "snapshots", doomed.SnapshotId)
            : Path.Combine(Driver.DataDir, "snapshots");

        using (SyscallFault.KillAt(Driver.Pid, syscalls, when, Driver.DriverPath(path)))
            await CrashDuringAsync(() => Driver.Client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = doomed.SnapshotId }).ResponseAsync);
        await Driver.StartAsync();
        AssertNothingHalfMade(await ListedAsync());
        await Driver.Client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = doomed.SnapshotId });

        Assert.Equal([kept.SnapshotId], await ListedAsync());
        AssertNothingHalfMade(new HashSet<string> { kept.SnapshotId });
        Assert.Equal("before", await RestoredMarkerAsync(kept, "image", "restored-kept"));
    }

    private async Task<(string Volume, string Target)> CreatePublishedAsync(string backing)
    {
        var request = Requests.Create("pvc-snap-fault", 32 * MiB, new Dictionary<string, string> { ["backing"] = backing });
        if (backing == "image")
            request.VolumeCapabilities[0].Mount.FsType = "ext4";
        string volume = (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        return (volume, await PublishAsync(volume, "source"));
    }

    private async Task<string> PublishAsync(string volume, string pod)
    {
        string target = Path.Combine(Driver.PodsDir, pod, "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume, target));
        return target;
    }

    private async Task<Snapshot> SnapshotAsync(string name, string volume) =>
        (await Driver.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = name, SourceVolumeId = volume })).Snapshot;

    private async Task<HashSet<string>> ListedAsync() =>
        (await Driver.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest())).Entries.Select(e => e.Snapshot.SnapshotId).ToHashSet();

    /// <summary>Only the listed snapshots hold space: nothing in .staging/ or .trash/, no other directory in snapshots/.</summary>
    private void AssertNothingHalfMade(IReadOnlySet<string> listed)
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Driver.DataDir, ".staging")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Driver.DataDir, ".trash")));
        Assert.Equal(listed, Directory.EnumerateFileSystemEntries(Path.Combine(Driver.DataDir, "snapshots")).Select(p => Path.GetFileName(p)).ToHashSet());
    }

    /// <summary>What the marker file said in <paramref name="snapshot"/>, read from a volume restored from it.</summary>
    private async Task<string> RestoredMarkerAsync(Snapshot snapshot, string backing, string name)
    {
        var request = Requests.Create(name, 32 * MiB, new Dictionary<string, string> { ["backing"] = backing });
        if (backing == "image")
            request.VolumeCapabilities[0].Mount.FsType = "ext4";
        request.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId } };
        string volume = (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        string target = await PublishAsync(volume, name);
        string marker = await File.ReadAllTextAsync(Path.Combine(target, "marker"));
        await Driver.Client.UnpublishOnceFreeAsync(volume, target);
        return marker;
    }

    /// <summary>Runs a call that the fault kills the driver in, and waits until every process of its namespace is gone.</summary>
    private async Task CrashDuringAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        await Driver.KillAsync();
    }

    /// <summary>The driver's id for a snapshot name (SHA-256 of "snapshot\0" and the name), worked out without its code.</summary>
    private static string ExpectedSnapshotId(string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("snapshot\0" + name)))[..32];
}
