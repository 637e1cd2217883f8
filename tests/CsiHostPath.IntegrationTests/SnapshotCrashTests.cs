using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// kill -9 of the driver on a node harness (every restart in a fresh mount namespace, as a container restart): an
/// acknowledged snapshot survives, and a half-made one is neither listed nor left holding space; and an image volume's
/// filesystem frozen by a snapshot the driver did not finish is thawed by the next start.
/// </summary>
public sealed class SnapshotCrashTests : DriverTest
{
    private const long MiB = 1 << 20;

    [Fact]
    public async Task KillMidSnapshot_Restart_ListsOnlyAcknowledgedSnapshots_AndLeavesNoStaging()
    {
        var volume = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-crash-snap", 64 * MiB))).Volume;
        string source = await PublishAsync(volume, "crash-src");
        await File.WriteAllTextAsync(Path.Combine(source, "first"), "acknowledged");
        var kept = (await Driver.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = "snap-kept", SourceVolumeId = volume.VolumeId })).Snapshot;
        // Enough files that the copy is still running when the kill lands.
        for (int dir = 0; dir < 40; dir++)
        {
            string path = Path.Combine(source, "d" + dir);
            Directory.CreateDirectory(path);
            for (int file = 0; file < 500; file++)
                await File.WriteAllTextAsync(Path.Combine(path, "f" + file), "x");
        }
        string staging = Path.Combine(Driver.DataDir, ".staging");

        var inFlight = Driver.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = "snap-killed", SourceVolumeId = volume.VolumeId }).ResponseAsync;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Directory.EnumerateFileSystemEntries(staging).Any() && !inFlight.IsCompleted && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        bool killedMidCopy = !inFlight.IsCompleted;
        await Driver.RestartAfterKillAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => inFlight);

        var listed = (await Driver.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest())).Entries.Select(e => e.Snapshot.SnapshotId).ToList();
        Assert.True(killedMidCopy, "the snapshot finished before the kill; the tree is too small for this machine");
        Assert.Equal([kept.SnapshotId], listed);
        Assert.Empty(Directory.EnumerateFileSystemEntries(staging));
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.Combine(Driver.DataDir, "snapshots")));
        var restore = Requests.Create("pvc-crash-restored", 64 * MiB);
        restore.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = kept.SnapshotId } };
        var restored = (await Driver.Client.Controller.CreateVolumeAsync(restore)).Volume;
        string copy = await PublishAsync(restored, "crash-restored");
        Assert.Equal("acknowledged", await File.ReadAllTextAsync(Path.Combine(copy, "first")));
        Assert.False(Directory.Exists(Path.Combine(copy, "d0")));
    }

    /// <summary>
    /// A driver process restarted in the same mount namespace finds its loop device and mount again, and thaws through
    /// them. (A restart in a fresh namespace, as a container restart does it, is ReliabilityTests' SnapshotFaultTests.)
    /// </summary>
    [Fact]
    public async Task KillWhileImageFileSystemFrozen_Restart_ThawsIt()
    {
        using var root = new TempRoot();
        await using var driver = await DriverProcess.StartAsync(root);
        var request = Requests.Create("pvc-frozen", 32 * MiB, new Dictionary<string, string> { ["backing"] = "image" });
        var volume = (await driver.Client.Controller.CreateVolumeAsync(request)).Volume;
        string target = Path.Combine(driver.PodsDir, "frozen", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        // What a driver killed between FIFREEZE and FITHAW leaves: the pod's filesystem frozen.
        LoopFileSystem.Run("fsfreeze", "-f", target);

        await driver.RestartAfterKillAsync();

        // On a thread of its own: creating a file on a frozen filesystem blocks in open(2) itself.
        var write = Task.Run(() => File.WriteAllText(Path.Combine(target, "after-restart"), "writable"));
        var finished = await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(30)));
        if (finished != write)
            LoopFileSystem.Run("fsfreeze", "-u", target);
        Assert.True(finished == write, "still frozen after the restart; the driver said:\n" + driver.Output);
        Assert.Contains("left frozen by a snapshot", driver.Output);
        await driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        await driver.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
    }

    private async Task<string> PublishAsync(Volume volume, string pod)
    {
        string target = Path.Combine(Driver.PodsDir, pod, "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        return target;
    }
}
