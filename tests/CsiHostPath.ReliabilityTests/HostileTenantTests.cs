using System.Diagnostics;
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

    [Fact]
    public async Task NodePublishVolume_DataDirSwappedForSymlink_RefusesAndMountsNothing()
    {
        string volumeId = await fixture.CreateAsync("redirected");
        string data = fixture.DataPath(volumeId);
        Directory.Move(data, data + ".real");
        File.CreateSymbolicLink(data, fixture.Canary.Path);
        string target = fixture.Target("redirected");

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.PublishAsync(volumeId, target));

        Assert.NotEqual(StatusCode.Unknown, error.StatusCode);
        Assert.False(CsiHostPath.Testing.Mounts.IsMountPoint(target), $"{target} was mounted although the volume's data dir points at the canary");
        File.Delete(data);
        Directory.Move(data + ".real", data);
        await fixture.DeleteAsync(volumeId);
        fixture.Canary.AssertUntouched();
    }

    /// <summary>
    /// A pod process still holding a directory of its volume (its cwd, an open fd) swaps a directory for a symlink
    /// to the canary, and moves directories about, as fast as it can while DeleteVolume runs.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_SymlinkSwapRacingTheDelete_NeverTouchesTheCanary()
    {
        int tries = Scale.RaceTries;
        long swaps = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < tries; i++)
        {
            string volumeId = await fixture.CreateAsync($"race-{i}");
            string data = fixture.DataPath(volumeId);
            Directory.CreateDirectory(Path.Combine(data, "victim", "sub"));
            File.WriteAllText(Path.Combine(data, "victim", "sub", "f"), "x");
            using var swapper = new SymlinkSwapper(data, fixture.Canary.Path);
            swapper.WaitForFirstSwap();
            await fixture.DeleteAsync(volumeId);
            swaps += swapper.Stop();
            Assert.False(Directory.Exists(Path.Combine(fixture.VolumesDir, volumeId)), $"try {i}: the volume is still there");
            fixture.Canary.AssertUntouched();
        }
        fixture.AssertNeighbourUntouched();
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        Results.Report(output, "symlink-swap-race", $"tries={tries} swaps={swaps} seconds={clock.Elapsed.TotalSeconds:F1} canary_changed=0");
    }

    /// <summary>
    /// A tenant process that never stops writing: the delete returns (it wins the race, or gives up with an error
    /// rather than spin for as long as the tenant writes), and what is left is finished once the writer is gone.
    /// </summary>
    [Fact]
    public async Task DeleteVolume_TenantNeverStopsWriting_ReturnsAndFinishesAfterRestart()
    {
        string volumeId = await fixture.CreateAsync("endless-writer");
        string data = fixture.DataPath(volumeId);
        Directory.CreateDirectory(Path.Combine(data, "victim", "sub"));
        using (var swapper = new SymlinkSwapper(data, fixture.Canary.Path, maxSwaps: long.MaxValue))
        {
            swapper.WaitForFirstSwap();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            try
            {
                await fixture.Client.Controller.DeleteVolumeAsync(new Csi.V1.DeleteVolumeRequest { VolumeId = volumeId }, deadline: deadline);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.DeadlineExceeded)
            {
                Assert.Equal(StatusCode.Internal, e.StatusCode);
                Assert.Contains("keeps writing", e.Status.Detail);
            }
        }
        fixture.Canary.AssertUntouched();

        await fixture.DeleteAsync(volumeId);
        // The retried delete finished what the first one left in .trash; no restart was needed for that.
        Assert.Empty(Directory.GetDirectories(Path.Combine(fixture.Driver.DataDir, ".trash"), volumeId + "-*"));
        await fixture.Driver.RestartAfterKillAsync();

        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
    }

    /// <summary>Something mounted inside a volume (a privileged pod, an admin's bind): the delete stops at the mount and never empties what is mounted.</summary>
    [Fact]
    public async Task DeleteVolume_MountInsideTheVolume_RefusesToCrossItAndLeavesWhatIsMounted()
    {
        string volumeId = await fixture.CreateAsync("mount-inside");
        string inside = Path.Combine(fixture.DataPath(volumeId), "a", "mnt");
        Directory.CreateDirectory(inside);
        Native.Check(Native.Mount(fixture.Canary.Path, inside, null, 0x1000 /* MS_BIND */, null), "mount --bind", inside);

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.DeleteAsync(volumeId));

        Assert.Contains("mnt", error.Status.Detail);
        fixture.Canary.AssertUntouched();
        CsiHostPath.Testing.Mounts.DetachAllBeneath(fixture.Driver.DataDir);
        await fixture.DeleteAsync(volumeId);
        Assert.Empty(Directory.GetDirectories(Path.Combine(fixture.Driver.DataDir, ".trash"), volumeId + "-*"));
        await fixture.Driver.RestartAfterKillAsync();
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(fixture.Driver.DataDir, ".trash")));
        fixture.Canary.AssertUntouched();
    }

    public sealed class Fixture : DriverFixture
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
