using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Real filesystems failing under the driver: a full and a read-only data dir (a tmpfs of the test's own), a
/// missing one, a corrupt record, and mounts that are busy, gone, or stale after a restart.
/// </summary>
public sealed class FaultTests : IAsyncLifetime
{
    private readonly TempRoot _root = new("chp-fault");
    private ScratchFileSystem? _scratch;
    private DriverProcess _driver = null!;

    private string VolumesDir => Path.Combine(_driver.DataDir, "volumes");

    public Task InitializeAsync() => Task.CompletedTask;

    /// <param name="onNode">for the tests that kill -9: the restart is in a fresh mount namespace, as on a node.</param>
    private async Task StartAsync(bool ownFileSystem = false, bool onNode = false)
    {
        if (ownFileSystem)
            _scratch = new ScratchFileSystem(_root.Combine("data"), sizeBytes: 8 << 20, inodes: 256);
        _driver = onNode ? await DriverProcess.StartOnNodeAsync(_root) : await DriverProcess.StartAsync(_root);
    }

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        _scratch?.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task CreateVolume_DataDirOutOfSpace_ResourceExhaustedThenRecovers()
    {
        await StartAsync(ownFileSystem: true);
        var filler = _scratch!.FillUp(inodes: false);

        var error = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("no-room"));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        AssertNothingHalfMade();
        foreach (var file in filler)
            File.Delete(file);
        await CreateAsync("room-again");
    }

    /// <summary>With no inode left, then one, then two: CreateVolume fails at each of its steps (staging dir, data dir, record).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task CreateVolume_DataDirOutOfInodesMidCreate_ResourceExhaustedAndRemovesThePartialVolume(int inodesLeft)
    {
        await StartAsync(ownFileSystem: true);
        var filler = _scratch!.FillUp(inodes: true);
        foreach (var file in filler.TakeLast(inodesLeft))
            File.Delete(file);

        var error = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("half"));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        AssertNothingHalfMade();
        foreach (var file in filler.Take(8))
            File.Delete(file);
        await CreateAsync("half");
        await DeleteAsync(ExpectedVolumeId.For("half"));
        AssertNothingHalfMade();
    }

    [Fact]
    public async Task Probe_DataDirRemountedReadOnly_NotReadyAndRecoversWithoutRestart()
    {
        await StartAsync(ownFileSystem: true);
        string before = await CreateAsync("before");
        int pid = _driver.Pid;

        _scratch!.RemountReadOnly();
        var probe = await Assert.ThrowsAsync<RpcException>(async () => await _driver.Client.Identity.ProbeAsync(new ProbeRequest()));
        var create = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("while-read-only"));
        var listed = await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());

        Assert.Equal(StatusCode.FailedPrecondition, probe.StatusCode);
        Assert.Contains("read-only", probe.Status.Detail);
        Assert.Contains(create.StatusCode, new[] { StatusCode.Unavailable, StatusCode.FailedPrecondition });
        Assert.NotEmpty(create.Status.Detail);
        Assert.Contains(listed.Entries, e => e.Volume.VolumeId == before);

        _scratch.RemountReadWrite();
        Assert.True((await _driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
        await CreateAsync("after");
        await DeleteAsync(before);
        Assert.Equal(pid, _driver.Pid);
    }

    [Fact]
    public async Task Probe_DataDirMissing_NotReadyAndRecoversWhenItComesBack()
    {
        await StartAsync();
        string before = await CreateAsync("before");
        Directory.Move(_driver.DataDir, _driver.DataDir + ".away");

        var probe = await Assert.ThrowsAsync<RpcException>(async () => await _driver.Client.Identity.ProbeAsync(new ProbeRequest()));
        var create = await Assert.ThrowsAsync<RpcException>(() => CreateAsync("while-missing"));

        Assert.Equal(StatusCode.FailedPrecondition, probe.StatusCode);
        Assert.Contains("missing", probe.Status.Detail);
        Assert.True(create.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition, $"CreateVolume answered {create.Status}");
        Assert.False(Directory.Exists(_driver.DataDir), "the driver recreated a data dir that was taken away");

        Directory.Move(_driver.DataDir + ".away", _driver.DataDir);
        Assert.True((await _driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
        await CreateAsync("after");
        await DeleteAsync(before);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("missing")]
    public async Task ListVolumes_OneRecordCorrupt_OnlyThatVolumeAbnormalAndItCanStillBeDeleted(string damage)
    {
        await StartAsync(onNode: true);
        string damaged = await CreateAsync("damaged");
        string[] healthy = [await CreateAsync("healthy-1"), await CreateAsync("healthy-2")];
        string record = Path.Combine(VolumesDir, damaged, "volume.json");
        byte[] original = File.ReadAllBytes(record);
        switch (damage)
        {
            case "truncated": File.WriteAllBytes(record, original[..(original.Length / 2)]); break;
            case "garbage": File.WriteAllBytes(record, [0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b]); break;
            case "empty": File.WriteAllBytes(record, []); break;
            default: File.Delete(record); break;
        }
        await _driver.RestartAfterKillAsync();

        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        var got = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = damaged });

        Assert.True(listed[damaged].Status.VolumeCondition.Abnormal);
        Assert.NotEmpty(listed[damaged].Status.VolumeCondition.Message);
        Assert.True(got.Status.VolumeCondition.Abnormal);
        foreach (var id in healthy)
        {
            Assert.False(listed[id].Status.VolumeCondition.Abnormal, listed[id].Status.VolumeCondition.Message);
            string target = Path.Combine(_driver.PodsDir, id);
            await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
            await File.WriteAllTextAsync(Path.Combine(target, "still-works"), id);
            await UnpublishAsync(id, target);
        }
        await CreateAsync("new-after-damage");
        await DeleteAsync(damaged);
        var after = await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.DoesNotContain(after.Entries, e => e.Volume.VolumeId == damaged);
        Assert.False(Directory.Exists(Path.Combine(VolumesDir, damaged)));
    }

    [Fact]
    public async Task NodeUnpublishVolume_TargetBusy_FailedPreconditionKeepsThePublicationUntilFree()
    {
        await StartAsync();
        string id = await CreateAsync("busy");
        string target = Path.Combine(_driver.PodsDir, "busy");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
        var open = new FileStream(Path.Combine(target, "held-open"), FileMode.Create);

        var error = await Assert.ThrowsAsync<RpcException>(() => UnpublishAsync(id, target));
        var delete = await Assert.ThrowsAsync<RpcException>(() => DeleteAsync(id));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("busy", error.Status.Detail);
        Assert.True(Mounts.IsMountPoint(target), "the busy target was taken away");
        Assert.Equal(StatusCode.FailedPrecondition, delete.StatusCode);

        await open.DisposeAsync();
        await UnpublishAsync(id, target);
        Assert.False(Mounts.IsMountPoint(target));
        await DeleteAsync(id);
    }

    [Fact]
    public async Task NodeUnpublishVolume_TargetAlreadyRemovedByKubelet_SucceedsAndForgetsThePublication()
    {
        await StartAsync();
        string id = await CreateAsync("kubelet-removed");
        string target = Path.Combine(_driver.PodsDir, "kubelet-removed");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
        Native.Check(Native.Umount2(target, 0), "umount", target);
        Directory.Delete(target);

        await UnpublishAsync(id, target);

        await DeleteAsync(id);
        Assert.False(Directory.Exists(Path.Combine(VolumesDir, id)));
    }

    [Fact]
    public async Task NodeGetVolumeStats_MountVanishedUnderTheDriver_AbnormalAndUnpublishStillSucceeds()
    {
        await StartAsync();
        string id = await CreateAsync("vanished");
        string target = Path.Combine(_driver.PodsDir, "vanished");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
        Native.Check(Native.Umount2(target, 0), "umount", target);

        var stats = await _driver.Client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target });
        var got = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id });

        Assert.True(stats.VolumeCondition.Abnormal);
        Assert.Contains(target, stats.VolumeCondition.Message);
        Assert.True(got.Status.VolumeCondition.Abnormal);
        await UnpublishAsync(id, target);
        got = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id });
        Assert.False(got.Status.VolumeCondition.Abnormal, got.Status.VolumeCondition.Message);
        await DeleteAsync(id);
    }

    /// <summary>Two pods on one volume; the driver is killed and one pod's mount goes while it is down (a node restart takes all).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Restart_PublicationsWhoseMountsWentAway_ReconciledAgainstTheMountTable(bool nodeRestarted)
    {
        await StartAsync(onNode: true);
        string id = await CreateAsync("stale");
        string kept = Path.Combine(_driver.PodsDir, "kept"), lost = Path.Combine(_driver.PodsDir, "lost");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, kept));
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, lost));
        await _driver.KillAsync();
        Native.Check(Native.Umount2(lost, 0), "umount", lost);
        if (nodeRestarted)
            Native.Check(Native.Umount2(kept, 0), "umount", kept);
        await _driver.StartAsync();

        var got = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id });

        Assert.False(got.Status.VolumeCondition.Abnormal, got.Status.VolumeCondition.Message);
        if (!nodeRestarted)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => DeleteAsync(id));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains(kept, refused.Status.Detail);
            Assert.DoesNotContain(lost, refused.Status.Detail);
            await UnpublishAsync(id, kept);
        }
        await DeleteAsync(id);
        Assert.Empty(_driver.Node.TargetMounts());
    }

    private async Task<string> CreateAsync(string name) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume.VolumeId;

    private async Task DeleteAsync(string id) =>
        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });

    private async Task UnpublishAsync(string id, string target) =>
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });


    private void AssertNothingHalfMade()
    {
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, ".staging")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(VolumesDir), d => !File.Exists(Path.Combine(d, "volume.json")));
    }
}
