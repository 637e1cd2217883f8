using System.Diagnostics;
using CsiHostPath.Testing;
using SyscallFault = CsiHostPath.Testing.SyscallFault;
using CsiHostPath.ReliabilityTests.Infrastructure;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// A pod fills its volume with whatever it likes; DeleteVolume removes exactly the volume's own tree. The canary
/// tree beside the data dir and a neighbour volume are compared byte for byte before and after.
/// </summary>
public sealed class HostileTenantTests(HostileTenantTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<HostileTenantTests.Fixture>
{
    public static TheoryData<string> Trees => [.. HostileTrees.All];

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task DeleteVolume_HostileTreeBuiltThroughTarget_RemovesOnlyTheVolume(string tree)
    {
        string volumeId = await fixture.CreateAsync("hostile-" + tree);
        string target = fixture.Target(tree);
        await fixture.PublishAsync(volumeId, target);
        int entries = HostileTrees.Build(tree, target, fixture.Canary.Path, fixture.NeighbourData);
        await fixture.UnpublishAsync(volumeId, target);

        var clock = Stopwatch.StartNew();
        await fixture.DeleteAsync(volumeId);
        clock.Stop();

        Assert.False(Directory.Exists(Path.Combine(fixture.VolumesDir, volumeId)), "the volume's directory is still there");
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
        Results.Report(output, "hostile-tree", $"tree={tree} entries={entries} delete_ms={clock.ElapsedMilliseconds} canary_entries={fixture.Canary.Entries} canary_changed=0 neighbour_changed=0");
    }

    /// <summary>
    /// The volume's data dir replaced by a symlink: to the canary outside the data dir, or relative, to a neighbour
    /// volume or to the data dir itself, which stay beneath the data dir and so pass RESOLVE_BENEATH: only refusing
    /// every symlink on the way keeps the pod from being given another volume's data or the driver's own files.
    /// The status is FAILED_PRECONDITION naming the volume, as for a volume whose record is damaged: the request is
    /// right (not INVALID_ARGUMENT), the volume exists (not NOT_FOUND), and its storage is not in a state to publish.
    /// </summary>
    [Theory]
    [InlineData("canary")]
    [InlineData("neighbour-relative")]
    [InlineData("data-dir-relative")]
    public async Task NodePublishVolume_DataDirSwappedForSymlink_FailedPreconditionAndMountsNothing(string pointingAt)
    {
        string volumeId = await fixture.CreateAsync("redirected-" + pointingAt);
        string data = fixture.DataPath(volumeId);
        string neighbourId = Path.GetFileName(Path.GetDirectoryName(fixture.NeighbourData))!;
        Directory.Move(data, data + ".real");
        File.CreateSymbolicLink(data, pointingAt switch
        {
            "canary" => fixture.Canary.Path,
            "neighbour-relative" => $"../{neighbourId}/data",
            _ => "../..",
        });
        string target = fixture.Target("redirected-" + pointingAt);

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.PublishAsync(volumeId, target));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains($"volume {volumeId} is damaged", error.Status.Detail);
        Assert.False(CsiHostPath.Testing.Mounts.IsMountPoint(target), $"{target} was mounted although the volume's data dir points elsewhere");
        File.Delete(data);
        Directory.Move(data + ".real", data);
        await fixture.DeleteAsync(volumeId);
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
    }

    /// <summary>
    /// A pod process still holding a directory of its volume (its cwd, an open fd) swaps a directory for a symlink
    /// to the canary, and moves directories about, while DeleteVolume removes it: the tenant watches for the delete
    /// to begin, so its swaps land while the driver walks the tree, which has enough entries to take a while.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_SymlinkSwapRacingTheDelete_NeverTouchesTheCanary()
    {
        int tries = Scale.RaceTries;
        long swaps = 0, landed = 0;
        int landedTries = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < tries; i++)
        {
            string volumeId = await fixture.CreateAsync($"race-{i}");
            string data = fixture.DataPath(volumeId);
            Directory.CreateDirectory(Path.Combine(data, "victim", "sub"));
            File.WriteAllText(Path.Combine(data, "victim", "sub", "f"), "x");
            HostileTrees.Build("many-files", data, fixture.Canary.Path, fixture.NeighbourData, files: 100);
            using var swapper = new SymlinkSwapper(data, fixture.Canary.Path);
            swapper.WaitForFirstSwap();
            await fixture.DeleteAsync(volumeId);
            swaps += swapper.Stop();
            landed += swapper.Landed;
            landedTries += swapper.Landed > 0 ? 1 : 0;
            Assert.False(Directory.Exists(Path.Combine(fixture.VolumesDir, volumeId)), $"try {i}: the volume is still there");
            fixture.Canary.AssertUntouched();
        }
        fixture.AssertNeighbourUntouched();
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        Results.Report(output, "symlink-swap-race", $"tries={tries} landed_tries={landedTries} swaps={swaps} landed_swaps={landed} seconds={clock.Elapsed.TotalSeconds:F1} canary_changed=0");
        // Most tries must have raced the removal itself, or the test proved nothing about it.
        Assert.True(landedTries * 2 >= tries, $"only {landedTries} of {tries} tries swapped while the driver was removing the volume");
    }

    /// <summary>
    /// A tenant process that never stops writing: the delete gives up (DirectoryTree.Remove: after 100 lost races, or
    /// 5 s after the first) with the spec's "volume in use", FAILED_PRECONDITION naming the volume, rather than spin
    /// for as long as the tenant writes; it leaves the canary alone, and a retry once the writer is gone finishes the
    /// removal. The tenant (<see cref="DirectorySpawner"/>) starts when it sees the delete begin, and then makes ten new
    /// directories for each one the driver removes, slowed by 2 ms per unlinkat (strace): it only adds new names, so
    /// no directory the driver emptied is ever found full again and the first pass never ends; only the directory
    /// growing under the removal shows the writer.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_TenantNeverStopsWriting_GivesUpThenFinishesOnceItStops()
    {
        string volumeId = await fixture.CreateAsync("endless-writer");
        using (SyscallFault.Delay(fixture.Driver.Pid, "unlinkat", TimeSpan.FromMilliseconds(2)))
        using (var spawner = new DirectorySpawner(fixture.DataPath(volumeId), initial: 1_000))
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await fixture.Client.Controller.DeleteVolumeAsync(new Csi.V1.DeleteVolumeRequest { VolumeId = volumeId }, deadline: DateTime.UtcNow.AddSeconds(60)));
            clock.Stop();
            long created = spawner.Created;

            // external-provisioner retries a failed delete with backoff, as the spec's recovery for "volume in use" says.
            Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
            Assert.Contains($"volume {volumeId} is in use", error.Status.Detail);
            Assert.Contains("keeps writing", error.Status.Detail);
            Assert.True(spawner.DeleteSeen && created > 0, "the tenant never wrote while the driver was removing its volume");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the delete spun for {clock.Elapsed} racing the writer");
            Results.Report(output, "delete-give-up", $"seconds={clock.Elapsed.TotalSeconds:F1} created_during_removal={created} detail=\"{error.Status.Detail}\"");
        }
        fixture.Canary.AssertUntouched();
        // The delete did not happen: the volume is still listed, so the provisioner's retry is what ends it.
        Assert.Contains((await fixture.Client.Controller.ListVolumesAsync(new Csi.V1.ListVolumesRequest())).Entries, e => e.Volume.VolumeId == volumeId);

        await fixture.DeleteAsync(volumeId);
        Assert.DoesNotContain((await fixture.Client.Controller.ListVolumesAsync(new Csi.V1.ListVolumesRequest())).Entries, e => e.Volume.VolumeId == volumeId);
        // The retried delete finished what the first one left in .trash; no restart was needed for that.
        Assert.Empty(Directory.GetDirectories(Path.Combine(fixture.Driver.DataDir, ".trash"), volumeId + "-*"));
        await fixture.Driver.RestartAfterKillAsync();

        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
    }

    /// <summary>
    /// Something mounted inside a volume where the driver sees it (in its namespace): the delete stops at the mount and
    /// never empties what is mounted.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_MountInsideTheVolume_RefusesToCrossItAndLeavesWhatIsMounted()
    {
        string volumeId = await fixture.CreateAsync("mount-inside");
        string inside = Path.Combine(fixture.DataPath(volumeId), "a", "mnt");
        Directory.CreateDirectory(inside);
        fixture.Driver.RunInMountNamespace("mount", "--bind", fixture.Canary.Path, fixture.Driver.DriverPath(inside));

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.DeleteAsync(volumeId));

        Assert.Contains("mnt", error.Status.Detail);
        fixture.Canary.AssertUntouched();
        // The refused delete moved the volume, and the mount with it, into .trash.
        string dataDir = fixture.Driver.DriverPath(fixture.Driver.DataDir);
        foreach (var mount in CsiHostPath.Testing.Mounts.Beneath(dataDir, fixture.Driver.Pid).Where(m => m != dataDir).Reverse())
            fixture.Driver.RunInMountNamespace("umount", mount);
        await fixture.DeleteAsync(volumeId);
        Assert.Empty(Directory.GetDirectories(Path.Combine(fixture.Driver.DataDir, ".trash"), volumeId + "-*"));
        await fixture.Driver.RestartAfterKillAsync();
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        fixture.Canary.AssertUntouched();
    }

    /// <summary>
    /// The 10,000-deep tree is removed with one descriptor open whatever the depth (DirectoryTree): the driver's open
    /// descriptors, sampled all through the delete, never grow by more than a handful over what it held before.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_DeepTree_FewDescriptorsOpenWhateverTheDepth()
    {
        string volumeId = await fixture.CreateAsync("deep-descriptors");
        HostileTrees.Build("deep", fixture.DataPath(volumeId), fixture.Canary.Path, fixture.NeighbourData);
        string fds = $"/proc/{fixture.Driver.Pid}/fd";
        int before = Directory.GetFileSystemEntries(fds).Length;
        int most = before, samples = 0;

        var delete = fixture.DeleteAsync(volumeId);
        while (!delete.IsCompleted)
        {
            most = Math.Max(most, Directory.GetFileSystemEntries(fds).Length);
            samples++;
        }
        await delete;

        Assert.True(samples > 10, $"only {samples} samples were taken during the delete");
        Assert.InRange(most - before, 0, 4);
        Assert.False(Directory.Exists(Path.Combine(fixture.VolumesDir, volumeId)));
    }

    /// <summary>A delete of more than 100,000 entries logs its progress every 100,000, so a long delete is visibly moving.</summary>
    [Fact]
    public async Task DeleteVolume_MoreThan100000Entries_LogsProgress()
    {
        string volumeId = await fixture.CreateAsync("progress");
        HostileTrees.Build("many-files", fixture.DataPath(volumeId), fixture.Canary.Path, fixture.NeighbourData, files: 100_001);

        await fixture.DeleteAsync(volumeId);

        Assert.Contains("100000 entries removed so far", fixture.Driver.Output);
    }

    public class Fixture : DriverFixture
    {
        private TreeSnapshot _neighbour = null!;

        public string NeighbourData { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            NeighbourData = DataPath(await CreateAsync("neighbour"));
            Directory.CreateDirectory(Path.Combine(NeighbourData, "photos"));
            File.WriteAllText(Path.Combine(NeighbourData, "photos", "cat.jpg"), "meow");
            File.CreateSymbolicLink(Path.Combine(NeighbourData, "latest"), "photos/cat.jpg");
            _neighbour = TreeSnapshot.Take(NeighbourData);
        }

        public void AssertNeighbourUntouched() => _neighbour.AssertUnchanged(NeighbourData, "the neighbour volume");
    }
}
