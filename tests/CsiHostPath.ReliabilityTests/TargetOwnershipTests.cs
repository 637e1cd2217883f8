using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 20: a target has one owner. The driver runs on the node harness (its own mount namespace, kubelet's pods dir
/// shared both ways), and every check asks which volume's data a target shows, by the file it holds, not by the path.
/// kubelet never hands two volumes one target, but a misbehaving CO or a pod dir reused after a crash can, and the
/// driver must still never mount, unmount or report another volume's data.
/// </summary>
public sealed class TargetOwnershipTests : DriverTest
{

    private Csi.V1.Node.NodeClient Node => Driver.Client.Node;

    private Controller.ControllerClient Controller => Driver.Client.Controller;

    /// <summary>A target of the shape kubelet's csi_mounter.go GetPath gives, its parent made as kubelet makes it.</summary>
    private string PodTarget(string pod, string podsDir)
    {
        string target = Path.Combine(podsDir, pod, "volumes", "kubernetes.io~csi", "pv-" + pod, "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }

    private string PodTarget(string pod) => PodTarget(pod, Driver.PodsDir);

    private async Task<string> CreateAsync(string name) =>
        (await Controller.CreateVolumeAsync(Requests.Create(name))).Volume.VolumeId;

    private async Task<VolumeCondition> ConditionAsync(string volumeId) =>
        (await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId })).Status.VolumeCondition;

    private Task UnpublishAsync(string volumeId, string target) =>
        Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target }).ResponseAsync;

    /// <summary>Volume A recorded at a target that an outside unmount emptied, and volume B published there since.</summary>
    private async Task<(string A, string B, string Target)> TargetTakenOverAsync()
    {
        string a = await CreateAsync("owner-a");
        string b = await CreateAsync("owner-b");
        string target = PodTarget("reused");
        await Node.NodePublishVolumeAsync(Requests.Publish(a, target));
        Mounts.Unmount(target);
        await Node.NodePublishVolumeAsync(Requests.Publish(b, target));
        await File.WriteAllTextAsync(Path.Combine(target, "b-owns-this"), "b");
        return (a, b, target);
    }

    [Fact]
    public async Task NodePublishVolume_RecordedTargetNowShowingAnotherVolume_FailedPreconditionNotIdempotentOk()
    {
        var (a, b, target) = await TargetTakenOverAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => Node.NodePublishVolumeAsync(Requests.Publish(a, target)).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains(target, error.Status.Detail);
        Assert.Equal(1, Mounts.CountAt(target));
        Assert.True(File.Exists(Path.Combine(target, "b-owns-this")), "the target no longer shows volume B's data");
        var conditionA = await ConditionAsync(a);
        Assert.True(conditionA.Abnormal, $"volume {a} is called healthy while {target} shows volume {b}");
        Assert.Contains(target, conditionA.Message);
        Assert.False((await ConditionAsync(b)).Abnormal);
    }

    [Fact]
    public async Task NodeUnpublishVolume_RecordedTargetNowShowingAnotherVolume_OkAndThatMountStays()
    {
        var (a, b, target) = await TargetTakenOverAsync();

        await UnpublishAsync(a, target);

        Assert.True(Mounts.IsMountPoint(target), $"volume {a}'s unpublish took volume {b}'s mount off {target}");
        Assert.True(File.Exists(Path.Combine(target, "b-owns-this")));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = a });
        await UnpublishAsync(b, target);
        Assert.False(Mounts.IsMountPoint(target));
    }

    /// <summary>
    /// Volume A published at a target, and volume B's data mounted over it there from outside (a CO that reused a pod
    /// dir, an admin): the kernel can unmount only B's mount, which is not A's to take. A's unpublish is refused until B's
    /// mount is gone, rather than answered OK with A still mounted underneath while the CO deletes A.
    /// </summary>
    [Fact]
    public async Task NodeUnpublishVolume_OwnMountUnderAnotherVolumesMount_FailedPreconditionUntilThatOneIsGone()
    {
        string a = await CreateAsync("under-a");
        string b = await CreateAsync("over-b");
        string target = PodTarget("stacked");
        await Node.NodePublishVolumeAsync(Requests.Publish(a, target));
        await File.WriteAllTextAsync(Path.Combine(target, "a-owns-this"), "a");
        LoopFileSystem.Run("mount", "--bind", Path.Combine(Driver.DataDir, "volumes", b, "data"), target);

        var error = await Assert.ThrowsAsync<RpcException>(() => UnpublishAsync(a, target));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains(target, error.Status.Detail);
        Assert.Equal(2, Mounts.CountAt(target));
        Mounts.Unmount(target);
        Assert.True(File.Exists(Path.Combine(target, "a-owns-this")), $"volume {a}'s mount under {b}'s is gone");
        await UnpublishAsync(a, target);
        Assert.False(Mounts.IsMountPoint(target));
    }

    [Fact]
    public async Task NodeUnpublishVolume_UnknownVolumeAtAKnownVolumesTarget_OkAndThatMountStays()
    {
        string b = await CreateAsync("known");
        string target = PodTarget("known");
        await Node.NodePublishVolumeAsync(Requests.Publish(b, target));

        await UnpublishAsync("0123456789abcdef0123456789abcdef", target);

        Assert.True(Mounts.IsMountPoint(target), $"an unpublish of an unknown volume took volume {b}'s mount off {target}");
        await UnpublishAsync(b, target);
    }

    [Fact]
    public async Task NodePublishVolume_TwoVolumesRacingForOneTarget_OneMountOneOwner()
    {
        string a = await CreateAsync("race-a");
        string b = await CreateAsync("race-b");
        for (int i = 0; i < 30; i++)
        {
            string target = PodTarget("race-" + i);
            using var start = new Barrier(2);
            var publishes = new[] { a, b }.Select(id => Task.Run(async () =>
            {
                start.SignalAndWait();
                try
                {
                    await Node.NodePublishVolumeAsync(Requests.Publish(id, target));
                    return StatusCode.OK;
                }
                catch (RpcException e)
                {
                    return e.StatusCode;
                }
            })).ToArray();
            var codes = await Task.WhenAll(publishes);

            Assert.Equal(1, codes.Count(c => c == StatusCode.OK));
            Assert.All(codes.Where(c => c != StatusCode.OK), c => Assert.Contains(c, new[] { StatusCode.FailedPrecondition, StatusCode.Aborted }));
            Assert.Equal(1, Mounts.CountAt(target));
            string winner = codes[0] == StatusCode.OK ? a : b;
            string loser = winner == a ? b : a;
            Assert.False((await ConditionAsync(winner)).Abnormal);
            await UnpublishAsync(loser, target);
            Assert.True(Mounts.IsMountPoint(target), "the loser's unpublish took the winner's mount away");
            await UnpublishAsync(winner, target);
            Assert.False(Mounts.IsMountPoint(target));
        }
    }

    /// <summary>
    /// kubelet polls NodeGetVolumeStats on its own schedule (pkg/volume/csi/csi_metrics.go GetMetrics), so a measurement
    /// in flight during NodeUnpublishVolume is normal. The test waits until the driver really holds a descriptor inside
    /// the volume's tree (a walk in progress, whether the call's own or a background one) before unpublishing, so the
    /// race is landed every time, not by luck.
    /// </summary>
    [Fact]
    public async Task NodeUnpublishVolume_WhileStatsWalkTheVolume_NeverBusy()
    {
        string volumeId = await CreateAsync("stats-walk");
        string target = PodTarget("stats-walk");
        await Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        for (int d = 0; d < 100; d++)
        {
            string dir = Directory.CreateDirectory(Path.Combine(target, "d" + d)).FullName;
            for (int f = 0; f < 600; f++)
                File.Create(Path.Combine(dir, "f" + f)).Dispose();
        }

        var stats = Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volumeId, VolumePath = target }).ResponseAsync;
        Assert.True(await HoldsDescriptorInsideAsync(Driver.Pid, target, volumeId), "no walk of the volume was seen within 10 s");
        await UnpublishAsync(volumeId, target);

        Assert.False(Mounts.IsMountPoint(target));
        try
        {
            await stats;
        }
        catch (RpcException e)
        {
            Assert.Equal(StatusCode.NotFound, e.StatusCode);
        }
    }

    /// <summary>Polls the driver's open descriptors until one is inside the volume (through its target or its data dir).</summary>
    private static async Task<bool> HoldsDescriptorInsideAsync(int pid, string target, string volumeId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                string? link;
                try
                {
                    link = new FileInfo(fd).LinkTarget;
                }
                catch (IOException)
                {
                    continue;
                }
                if (link is not null && (link.StartsWith(target + "/", StringComparison.Ordinal) || link.Contains($"/volumes/{volumeId}/data/", StringComparison.Ordinal)))
                    return true;
            }
            await Task.Yield();
        }
        return false;
    }

    [Fact]
    public async Task ControllerGetVolume_WhilePublishingAndUnpublishing_SeesBeforeOrAfterNeverBetween()
    {
        string volumeId = await CreateAsync("reader");
        string target = PodTarget("reader");
        using var done = new CancellationTokenSource();
        var seen = new List<string>();
        var reader = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var condition = await ConditionAsync(volumeId);
                if (condition.Abnormal)
                    seen.Add(condition.Message);
            }
        });

        for (int i = 0; i < 150; i++)
        {
            await Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
            // What is checked here is the reader; a target briefly busy because of another test's fork is kubelet's to retry.
            await Driver.Client.UnpublishOnceFreeAsync(volumeId, target);
        }
        await done.CancelAsync();
        await reader;

        Assert.Empty(seen);
    }

    /// <summary>
    /// Issue 10 item 3: kubelet's dir is a symlink on several distributions, so the target kubelet names goes through
    /// one, while /proc/self/mountinfo shows the resolved path. After a container restart (a fresh mount namespace)
    /// the publication must still be known, or DeleteVolume would erase the data a pod is using.
    /// </summary>
    [Fact]
    public async Task Restart_TargetThroughSymlinkedKubeletDir_PublicationKeptAndDeleteRefused()
    {
        string kubelet = Root.Combine("kubelet");
        Directory.CreateSymbolicLink(kubelet, Driver.PodsDir);
        string volumeId = await CreateAsync("symlinked");
        string target = PodTarget("symlinked", kubelet);
        await Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "in-use"), "pod data");

        await Driver.RestartAfterKillAsync();

        Assert.False((await ConditionAsync(volumeId)).Abnormal, Driver.Output);
        var error = await Assert.ThrowsAsync<RpcException>(() => Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("pod data", await File.ReadAllTextAsync(Path.Combine(target, "in-use")));
        await UnpublishAsync(volumeId, target);
        Assert.False(Mounts.IsMountPoint(Path.Combine(Driver.PodsDir, "symlinked", "volumes", "kubernetes.io~csi", "pv-symlinked", "mount")));
    }

    /// <summary>
    /// Issue 11 item 5: kubelet's csiMountMgr.TearDownAt (pkg/volume/csi/csi_mounter.go) returns any NodeUnpublishVolume
    /// error and retries it for ever, so an unpublish the driver cannot match to a readable record must still end: the
    /// leftover mount at kubelet's target is taken off and the answer is OK, again and again.
    /// </summary>
    [Theory]
    [InlineData("damaged record")]
    [InlineData("data dir recreated")]
    public async Task NodeUnpublishVolume_VolumeNoLongerKnown_UnmountsKubeletTargetAndAnswersOk(string loss)
    {
        string volumeId = await CreateAsync("lost");
        string target = PodTarget("lost");
        await Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        await Driver.KillAsync();
        string volumeDir = Path.Combine(Driver.DataDir, "volumes", volumeId);
        if (loss == "damaged record")
            await File.WriteAllTextAsync(Path.Combine(volumeDir, "volume.json"), "{");
        else
            Directory.Move(volumeDir, Path.Combine(Driver.DataDir, "recreated-" + volumeId));
        await Driver.StartAsync();

        await UnpublishAsync(volumeId, target);
        await UnpublishAsync(volumeId, target);

        Assert.False(Mounts.IsMountPoint(target), $"the mount at {target} leaked");
    }
}
