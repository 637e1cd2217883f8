using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ConformanceTests.OwnDriver;

/// <summary>
/// CSI ephemeral inline volumes, driven exactly as kubelet drives them (see <see cref="InlineVolume"/>): NodePublishVolume
/// with csi.storage.k8s.io/ephemeral "true" creates and publishes, NodeUnpublishVolume unmounts and deletes, and
/// kubelet's TearDownAt retries an unpublish until it answers OK.
/// </summary>
public sealed class EphemeralVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Node.NodeClient Node => endpoint.Client.Node;

    private string KubeletRoot => endpoint.Root.Combine("kubelet");

    private InlineVolume NewPod(Dictionary<string, string>? attributes = null) => InlineVolume.ForNewPod(KubeletRoot, attributes);

    [OwnDriverFact]
    public async Task Publish_InlineVolume_MountedWritableSizedAndNotListed()
    {
        var pod = NewPod(new() { ["size"] = "64Mi" });

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.True(Mounts.IsMountPoint(pod.TargetPath), $"{pod.TargetPath} is not a mount point");
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "scratch"), "written");
        var stats = await Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = pod.VolumeId, VolumePath = pod.TargetPath });
        Assert.Equal(64L << 20, stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Total);
        var listed = await endpoint.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.DoesNotContain(listed.Entries, e => e.Volume.VolumeId == pod.VolumeId);
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_NoSize_DefaultVolumeSize()
    {
        var pod = NewPod();

        await Node.NodePublishVolumeAsync(pod.Publish());

        var stats = await Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = pod.VolumeId, VolumePath = pod.TargetPath });
        Assert.Equal(1L << 30, stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Total);
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_SameIdSameTargetAgain_OkMountedOnceAndDataKept()
    {
        var pod = NewPod();
        await Node.NodePublishVolumeAsync(pod.Publish());
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "kept"), "still here");

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.Single(Mounts.Beneath(pod.TargetPath));
        Assert.Equal("still here", await File.ReadAllTextAsync(Path.Combine(pod.TargetPath, "kept")));
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Unpublish_First_UnmountsAndRemovesTheData()
    {
        var pod = NewPod();
        await Node.NodePublishVolumeAsync(pod.Publish());
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "gone"), "soon");
        string volumeDir = Path.Combine(endpoint.Driver.DataDir, "volumes", pod.VolumeId);
        Assert.True(Directory.Exists(volumeDir), $"{volumeDir} was not created");

        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);

        Assert.Empty(Mounts.Beneath(pod.TargetPath));
        Assert.False(Directory.Exists(volumeDir), $"{volumeDir} is still there");
        Assert.False(Path.Exists(pod.TargetPath));
    }

    [OwnDriverFact]
    public async Task Unpublish_Repeated_OkAsKubeletRetries()
    {
        var pod = NewPod();
        await Node.NodePublishVolumeAsync(pod.Publish());
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);

        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Unpublish_RepublishedAfterDelete_FreshEmptyVolume()
    {
        var pod = NewPod();
        await Node.NodePublishVolumeAsync(pod.Publish());
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "old"), "x");
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.Empty(Directory.EnumerateFileSystemEntries(pod.TargetPath));
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_ReadOnly_MountRefusesWrites()
    {
        var pod = new InlineVolume(KubeletRoot, Guid.NewGuid().ToString(), "ro", readOnly: true);

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.True(Mounts.IsReadOnlyMount(pod.TargetPath));
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverTheory]
    [InlineData("64MB")]
    [InlineData("-1Gi")]
    [InlineData("lots")]
    [InlineData("0")]
    [InlineData("")]
    public async Task Publish_MalformedSize_InvalidArgumentNamingSizeAndNothingCreated(string size)
    {
        var pod = NewPod(new() { ["size"] = size });

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(pod.Publish()), field: "size");

        AssertNothingFor(pod);
    }

    [OwnDriverTheory]
    [InlineData("sizeLimit", "1Gi")]
    [InlineData("onDelete", "archive")]
    [InlineData("csi.storage.k8s.io/pvc/name", "claim")]
    public async Task Publish_AttributeThatDoesNotApply_InvalidArgumentNamingIt(string key, string value)
    {
        var pod = NewPod(new() { [key] = value });

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(pod.Publish()), field: key);

        AssertNothingFor(pod);
    }

    [OwnDriverFact]
    public async Task Publish_UnknownBacking_InvalidArgumentNamingBacking()
    {
        var pod = NewPod(new() { ["backing"] = "tape" });

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(pod.Publish()), field: "backing");
    }

    [OwnDriverFact]
    public async Task Publish_AboveDefaultMaximum_OutOfRangeNamingTheFlag()
    {
        var pod = NewPod(new() { ["size"] = "11Gi" });

        await CsiAssert.FailsWith(StatusCode.OutOfRange, () => Node.NodePublishVolumeAsync(pod.Publish()), field: "--max-ephemeral-volume-size");

        AssertNothingFor(pod);
    }

    [OwnDriverFact]
    public async Task Publish_IdNotKubeletsShape_InvalidArgumentNamingVolumeId()
    {
        var pod = NewPod();
        var request = pod.Publish();
        request.VolumeId = "my-scratch";

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(request), field: "volume_id");
    }

    [OwnDriverFact]
    public async Task Publish_SameIdOtherTarget_FailedPreconditionAndFirstTargetKept()
    {
        var pod = NewPod();
        await Node.NodePublishVolumeAsync(pod.Publish());
        var other = pod.Publish();
        other.TargetPath = endpoint.NewTargetWithParent("elsewhere");

        await CsiAssert.FailsWith(StatusCode.FailedPrecondition, () => Node.NodePublishVolumeAsync(other));

        Assert.False(Mounts.IsMountPoint(other.TargetPath));
        Assert.True(Mounts.IsMountPoint(pod.TargetPath));
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_BiggerThanTheDisk_ResourceExhausted()
    {
        using var root = new TempRoot("eph-big");
        await using var driver = await DriverProcess.StartAsync(root, "--max-ephemeral-volume-size", "1Pi");
        var pod = InlineVolume.ForNewPod(root.Combine("kubelet"), new Dictionary<string, string> { ["size"] = "1Pi" });

        await CsiAssert.FailsWith(StatusCode.ResourceExhausted, () => driver.Client.Node.NodePublishVolumeAsync(pod.Publish()));

        Assert.False(Directory.Exists(Path.Combine(driver.DataDir, "volumes", pod.VolumeId)));
    }

    [OwnDriverFact]
    public async Task Publish_MaximumFlagAsQuantity_AboveItOutOfRangeAtItOk()
    {
        using var root = new TempRoot("eph-max");
        await using var driver = await DriverProcess.StartAsync(root, "--max-ephemeral-volume-size", "32Mi");
        var over = InlineVolume.ForNewPod(root.Combine("kubelet"), new Dictionary<string, string> { ["size"] = "33554433" });
        var at = InlineVolume.ForNewPod(root.Combine("kubelet"), new Dictionary<string, string> { ["size"] = "32Mi" });

        await CsiAssert.FailsWith(StatusCode.OutOfRange, () => driver.Client.Node.NodePublishVolumeAsync(over.Publish()));
        await driver.Client.Node.NodePublishVolumeAsync(at.Publish());

        Assert.True(Mounts.IsMountPoint(at.TargetPath));
        await driver.Client.UnpublishOnceFreeAsync(at.VolumeId, at.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_FeatureTurnedOff_InvalidArgumentSayingSoAndPersistentVolumesStillWork()
    {
        using var root = new TempRoot("eph-off");
        await using var driver = await DriverProcess.StartAsync(root, "--ephemeral-volumes=false");
        var pod = InlineVolume.ForNewPod(root.Combine("kubelet"));

        var error = await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => driver.Client.Node.NodePublishVolumeAsync(pod.Publish()));

        Assert.Contains("--ephemeral-volumes=false", error.Status.Detail);
        Assert.False(Path.Exists(pod.TargetPath));
        var volume = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("persistent"))).Volume;
        string target = root.Combine("targets", "persistent", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        Assert.True(Mounts.IsMountPoint(target));
        await driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
    }

    [OwnDriverFact]
    public async Task Publish_ImageBacking64Mi_WritesStopAt64MiBWithENOSPCAndUnpublishDetachesTheLoopDevice()
    {
        var pod = NewPod(new() { ["size"] = "64Mi", ["backing"] = "image" });
        string volumeDir = Path.Combine(endpoint.Driver.DataDir, "volumes", pod.VolumeId);

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.Single(LoopFileSystem.LoopDevicesBeneath(volumeDir));
        var error = Assert.ThrowsAny<IOException>(() => WriteMiB(Path.Combine(pod.TargetPath, "fill"), 100));
        Assert.Contains("No space left on device", error.Message);
        Assert.True(new FileInfo(Path.Combine(pod.TargetPath, "fill")).Length < 64L << 20);

        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);

        Assert.Empty(LoopFileSystem.LoopDevicesBeneath(volumeDir));
        Assert.Empty(Mounts.Beneath(volumeDir));
        Assert.False(Directory.Exists(volumeDir));
    }

    [OwnDriverFact]
    public async Task Publish_ImageBackingXfsFromAttribute_VolumeIsXfs()
    {
        var pod = NewPod(new() { ["size"] = "300Mi", ["backing"] = "image", ["csi.storage.k8s.io/fstype"] = "xfs" });

        await Node.NodePublishVolumeAsync(pod.Publish());

        Assert.Equal("xfs", new DriveInfo(pod.TargetPath).DriveFormat);
        await endpoint.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
    }

    [OwnDriverFact]
    public async Task Publish_FsTypeAttributeContradictsInlineFsType_InvalidArgumentNamingTheKey()
    {
        var pod = new InlineVolume(KubeletRoot, Guid.NewGuid().ToString(), "fs",
            new Dictionary<string, string> { ["backing"] = "image", ["csi.storage.k8s.io/fstype"] = "xfs" }, fsType: "ext4");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(pod.Publish()), field: "csi.storage.k8s.io/fstype");
    }

    private void AssertNothingFor(InlineVolume pod)
    {
        Assert.False(Path.Exists(pod.TargetPath), $"{pod.TargetPath} was created");
        Assert.False(Directory.Exists(Path.Combine(endpoint.Driver.DataDir, "volumes", pod.VolumeId)));
    }

    private static void WriteMiB(string path, int mebibytes)
    {
        var block = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.WriteThrough);
        for (int i = 0; i < mebibytes; i++)
            file.Write(block);
        file.Flush(flushToDisk: true);
    }
}
