using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace CsiHostPath.ConformanceTests.Node;

/// <summary>Spec "NodePublishVolume": the volume is mounted at the target as asked, the idempotency table, and the error table.</summary>
public sealed class NodePublishVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Node.NodeClient Node => endpoint.Client.Node;

    [Fact]
    public async Task NodePublishVolume_NewTarget_MountedAndWritable()
    {
        var volume = await endpoint.CreateVolumeAsync("publish");
        string target = endpoint.NewTargetWithParent("publish");

        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));

        Assert.True(Mounts.IsMountPoint(target), $"{target} is not a mount point");
        Assert.False(Mounts.IsReadOnlyMount(target));
        await File.WriteAllTextAsync(Path.Combine(target, "f"), "written");
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodePublishVolume_Readonly_MountRefusesWrites()
    {
        var volume = await endpoint.CreateVolumeAsync("readonly");
        string target = endpoint.NewTargetWithParent("readonly");

        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target, readOnly: true));

        Assert.True(Mounts.IsReadOnlyMount(target));
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "f"), "x"));
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodePublishVolume_TwoTargets_ShareTheSameData()
    {
        Assert.Contains(NodeCapability.SingleNodeMultiWriter, endpoint.NodeCapabilities);
        var volume = await endpoint.CreateVolumeAsync("shared");
        string first = endpoint.NewTargetWithParent("shared-a");
        string second = endpoint.NewTargetWithParent("shared-b");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, first, mode: Mode.SingleNodeMultiWriter));

        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, second, mode: Mode.SingleNodeMultiWriter));

        await File.WriteAllTextAsync(Path.Combine(first, "f"), "one volume");
        Assert.Equal("one volume", await File.ReadAllTextAsync(Path.Combine(second, "f")));
        await UnpublishAsync(volume, first);
        await UnpublishAsync(volume, second);
    }

    [Fact]
    public async Task NodePublishVolume_SameTargetSameArguments_OkAndMountedOnce()
    {
        var volume = await endpoint.CreateVolumeAsync("again");
        string target = endpoint.NewTargetWithParent("again");
        var request = endpoint.Requests.Publish(volume.VolumeId, target);
        await Node.NodePublishVolumeAsync(request);

        await Node.NodePublishVolumeAsync(request);

        Assert.Single(Mounts.Beneath(target));
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodePublishVolume_SameTargetOtherReadonly_AlreadyExistsAndMountUnchanged()
    {
        var volume = await endpoint.CreateVolumeAsync("flip");
        string target = endpoint.NewTargetWithParent("flip");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));

        await CsiAssert.FailsWith(StatusCode.AlreadyExists,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target, readOnly: true)));

        Assert.False(Mounts.IsReadOnlyMount(target));
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodePublishVolume_SameTargetOtherAccessMode_AlreadyExists()
    {
        var volume = await endpoint.CreateVolumeAsync("remode");
        string target = endpoint.NewTargetWithParent("remode");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target, mode: Mode.SingleNodeWriter));

        await CsiAssert.FailsWith(StatusCode.AlreadyExists,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target, mode: Mode.SingleNodeMultiWriter)));
        await UnpublishAsync(volume, target);
    }

    [Theory]
    [InlineData(Mode.SingleNodeWriter)]
    [InlineData(Mode.SingleNodeSingleWriter)]
    public async Task NodePublishVolume_SecondTargetUnderSingleWriterMode_FailedPrecondition(Mode mode)
    {
        var volume = await endpoint.CreateVolumeAsync("single");
        string first = endpoint.NewTargetWithParent("single-a");
        string second = endpoint.NewTargetWithParent("single-b");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, first, mode: mode));

        await CsiAssert.FailsWith(StatusCode.FailedPrecondition,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, second, mode: mode)));

        Assert.False(Mounts.IsMountPoint(second));
        Assert.True(Mounts.IsMountPoint(first));
        await UnpublishAsync(volume, first);
    }

    [Fact]
    public async Task NodePublishVolume_SingleWriterPublishedThenMultiWriterElsewhere_FailedPrecondition()
    {
        // spec.md NodePublishVolume, second table: SINGLE_NODE_SINGLE_WRITER, T1!=T2 is FAILED_PRECONDITION whatever the
        // second call asks; a second writer must not appear beside the single one (issue 10 item 6).
        var volume = await endpoint.CreateVolumeAsync("single-then-multi");
        string first = endpoint.NewTargetWithParent("single-then-multi-a");
        string second = endpoint.NewTargetWithParent("single-then-multi-b");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, first, mode: Mode.SingleNodeSingleWriter));

        await CsiAssert.FailsWith(StatusCode.FailedPrecondition,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, second, mode: Mode.SingleNodeMultiWriter)));

        Assert.False(Mounts.IsMountPoint(second));
        await UnpublishAsync(volume, first);
    }

    [Fact]
    public async Task NodePublishVolume_UnknownVolume_NotFoundAndNothingMounted()
    {
        string target = endpoint.NewTargetWithParent("unknown");

        await CsiAssert.FailsWith(StatusCode.NotFound,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish("0123456789abcdef0123456789abcdef", target)));

        Assert.False(Mounts.IsMountPoint(target));
    }

    [Fact]
    public async Task NodePublishVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        string target = endpoint.NewTargetWithParent("noid");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish("", target)), "volume_id");
    }

    [Fact]
    public async Task NodePublishVolume_NoTargetPath_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("notarget");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, "")), "target_path");
    }

    [Fact]
    public async Task NodePublishVolume_NoVolumeCapability_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("nocap");
        var request = endpoint.Requests.Publish(volume.VolumeId, endpoint.NewTargetWithParent("nocap"));
        request.VolumeCapability = null;

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodePublishVolumeAsync(request), "volume_capability");
        Assert.False(Mounts.IsMountPoint(request.TargetPath));
    }

    [Fact]
    public async Task NodePublishVolume_BlockAccessOnDirectoryVolume_FailedPrecondition()
    {
        var volume = await endpoint.CreateVolumeAsync("block");
        var request = endpoint.Requests.Publish(volume.VolumeId, endpoint.NewTargetWithParent("block"));
        request.VolumeCapability = VolumeRequests.BlockCapability();

        // Spec: capabilities the volume does not support are "Exceeds capabilities", FAILED_PRECONDITION.
        await CsiAssert.FailsWith(StatusCode.FailedPrecondition, () => Node.NodePublishVolumeAsync(request));
        Assert.False(Mounts.IsMountPoint(request.TargetPath));
    }

    private Task UnpublishAsync(Volume volume, string target) =>
        Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target)).ResponseAsync;
}
