using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using SyscallFault = CsiHostPath.Testing.SyscallFault;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// The driver on a kernel without openat2 (before 5.6), faked with strace: every openat2 fails with ENOSYS, so
/// SafeDirectory and DirectoryTree take their fallback (one O_NOFOLLOW component at a time, a statx mount check).
/// The fallback must refuse the same symlinks and keep a delete inside the volume, as docs/reliability.md says.
/// </summary>
public sealed class NoOpenat2Tests(NoOpenat2Tests.Fixture fixture) : IClassFixture<NoOpenat2Tests.Fixture>
{
    [Theory]
    [InlineData("canary")]
    [InlineData("neighbour-relative")]
    public async Task NodePublishVolume_DataDirSwappedForSymlink_RefusedByTheFallback(string pointingAt)
    {
        string volumeId = await fixture.CreateAsync("fallback-redirected-" + pointingAt);
        string data = fixture.DataPath(volumeId);
        Directory.Move(data, data + ".real");
        File.CreateSymbolicLink(data, pointingAt == "canary" ? fixture.Canary.Path : $"../{Path.GetFileName(Path.GetDirectoryName(fixture.NeighbourData))}/data");
        string target = fixture.Target("fallback-redirected-" + pointingAt);

        // The fallback's ENOTDIR gets the status openat2's ELOOP gets (HostileTenantTests).
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.PublishAsync(volumeId, target));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains($"volume {volumeId} is damaged", error.Status.Detail);
        Assert.False(Mounts.IsMountPoint(target));
        Assert.Contains("(INJECTED)", File.ReadAllText(fixture.StraceLog));
        File.Delete(data);
        Directory.Move(data + ".real", data);
        await fixture.DeleteAsync(volumeId);
        fixture.Canary.AssertUntouched();
    }

    [Fact]
    public async Task DeleteVolume_SymlinkTree_RemovesOnlyTheVolumeThroughTheFallback()
    {
        string volumeId = await fixture.CreateAsync("fallback-symlinks");
        string target = fixture.Target("fallback-symlinks");
        await fixture.PublishAsync(volumeId, target);
        HostileTrees.Build("symlinks", target, fixture.Canary.Path, fixture.NeighbourData);
        await fixture.UnpublishAsync(volumeId, target);

        await fixture.DeleteAsync(volumeId);

        Assert.False(Directory.Exists(Path.Combine(fixture.VolumesDir, volumeId)));
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
        Assert.Contains("(INJECTED)", File.ReadAllText(fixture.StraceLog));
    }

    public sealed class Fixture : DriverFixture
    {
        private TreeSnapshot _neighbour = null!;
        private SyscallFault _noOpenat2 = null!;

        public string NeighbourData { get; private set; } = null!;

        public string StraceLog => Root.Combine("strace.log");

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            NeighbourData = DataPath(await CreateAsync("neighbour"));
            File.WriteAllText(Path.Combine(NeighbourData, "photo"), "meow");
            _neighbour = TreeSnapshot.Take(NeighbourData);
            _noOpenat2 = SyscallFault.Fail(Driver.Pid, "openat2", "ENOSYS", StraceLog);
        }

        public void AssertNeighbourUntouched() => _neighbour.AssertUnchanged(NeighbourData, "the neighbour volume");

        public override async Task DisposeAsync()
        {
            _noOpenat2.Dispose();
            await base.DisposeAsync();
        }
    }
}
