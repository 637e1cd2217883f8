using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Node;

/// <summary>Spec "NodeUnpublishVolume": the mount and the directory the plugin made are gone, data stays, repeats are OK.</summary>
public sealed class NodeUnpublishVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Node.NodeClient Node => endpoint.Client.Node;

    [Fact]
    public async Task NodeUnpublishVolume_Published_UnmountsRemovesTargetAndKeepsData()
    {
        var volume = await endpoint.CreateVolumeAsync("unpublish");
        string target = endpoint.NewTargetWithParent("unpublish");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "kept"), "data");

        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));

        Assert.False(Mounts.IsMountPoint(target));
        Assert.False(Directory.Exists(target), "the SP MUST delete the directory it created at target_path");
        string again = endpoint.NewTargetWithParent("unpublish-again");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, again));
        Assert.Equal("data", await File.ReadAllTextAsync(Path.Combine(again, "kept")));
        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, again));
    }

    [Fact]
    public async Task NodeUnpublishVolume_Twice_SecondCallOk()
    {
        var volume = await endpoint.CreateVolumeAsync("unpublish-twice");
        string target = endpoint.NewTargetWithParent("unpublish-twice");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));

        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));
        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));

        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task NodeUnpublishVolume_NeverPublishedTarget_Ok()
    {
        var volume = await endpoint.CreateVolumeAsync("never");

        // Spec: a volume not published at target_path MUST give OK.
        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, endpoint.NewTarget("never")));
    }

    [Fact]
    public async Task NodeUnpublishVolume_OneOfTwoTargets_OtherStaysMounted()
    {
        Assert.Contains(NodeCapability.SingleNodeMultiWriter, endpoint.NodeCapabilities);
        var volume = await endpoint.CreateVolumeAsync("one-of-two");
        string first = endpoint.NewTargetWithParent("one-of-two-a");
        string second = endpoint.NewTargetWithParent("one-of-two-b");
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, first, mode: Mode.SingleNodeMultiWriter));
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, second, mode: Mode.SingleNodeMultiWriter));

        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, first));

        Assert.False(Mounts.IsMountPoint(first));
        Assert.True(Mounts.IsMountPoint(second));
        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, second));
    }

    [Fact]
    public async Task NodeUnpublishVolume_UnknownVolume_OkSoKubeletCanFinish()
    {
        // kubelet's csiMountMgr.TearDownAt (pkg/volume/csi/csi_mounter.go) returns any NodeUnpublishVolume error, and the
        // volume manager retries it for ever: a NOT_FOUND here would keep the pod in Terminating (issue 11 item 5).
        string target = endpoint.NewTarget("unknown");

        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish("0123456789abcdef0123456789abcdef", target));
        await Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish("0123456789abcdef0123456789abcdef", target));
    }

    [Fact]
    public async Task NodeUnpublishVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish("", endpoint.NewTarget("noid"))), "volume_id");
    }

    [Fact]
    public async Task NodeUnpublishVolume_NoTargetPath_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("unpublish-notarget");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, "")), "target_path");
    }
}
