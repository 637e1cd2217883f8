using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Node;

/// <summary>
/// Spec "NodeExpandVolume" (node EXPAND_VOLUME) on volumes made with no parameters: only at a path the volume is
/// published at, after ControllerExpandVolume grew it while published (ONLINE).
/// </summary>
public sealed class NodeExpandVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private const long MiB = 1 << 20;

    private Csi.V1.Node.NodeClient Node => endpoint.Client.Node;

    [Fact]
    public async Task NodeExpandVolume_PublishedAfterControllerExpand_OkWithinTheNewCapacity()
    {
        Assert.Contains(NodeCapability.ExpandVolume, endpoint.NodeCapabilities);
        var (volume, target) = await PublishedAsync("node-expand");
        var expanded = await endpoint.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volume.VolumeId,
            CapacityRange = new CapacityRange { RequiredBytes = 8 * MiB },
            VolumeCapability = endpoint.Requests.Capability(),
        });

        var response = await Node.NodeExpandVolumeAsync(Expand(volume.VolumeId, target, 8 * MiB));

        // capacity_bytes is optional (0: unknown); when set it is the volume's new size.
        Assert.True(response.CapacityBytes == 0 || response.CapacityBytes >= 8 * MiB, $"capacity_bytes {response.CapacityBytes}");
        Assert.True(response.CapacityBytes <= expanded.CapacityBytes, $"node reports {response.CapacityBytes}, controller {expanded.CapacityBytes}");
        Assert.True(Mounts.IsMountPoint(target), "the volume is no longer mounted at its target");
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeExpandVolume_PathWhereVolumeIsNotPublished_NotFound()
    {
        var (volume, target) = await PublishedAsync("node-expand-elsewhere");

        await CsiAssert.FailsWith(StatusCode.NotFound, () => Node.NodeExpandVolumeAsync(Expand(volume.VolumeId, endpoint.TargetRoot, 4 * MiB)));
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeExpandVolume_NeverPublished_NotFound()
    {
        var volume = await endpoint.CreateVolumeAsync("node-expand-unpublished", 4 * MiB);

        await CsiAssert.FailsWith(StatusCode.NotFound, () => Node.NodeExpandVolumeAsync(Expand(volume.VolumeId, endpoint.NewTarget("never"), 4 * MiB)));
    }

    [Fact]
    public async Task NodeExpandVolume_CapabilityTheVolumeCannotHonour_InvalidArgumentNamingField()
    {
        var (volume, target) = await PublishedAsync("node-expand-block");
        var request = Expand(volume.VolumeId, target, 4 * MiB);
        // Published with a mount capability; spec "Exceeds capabilities" on NodeExpandVolume is INVALID_ARGUMENT.
        request.VolumeCapability = VolumeRequests.BlockCapability();

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodeExpandVolumeAsync(request), "volume_capability");
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeExpandVolume_UnknownVolume_NotFound()
    {
        await CsiAssert.FailsWith(StatusCode.NotFound,
            () => Node.NodeExpandVolumeAsync(Expand("0123456789abcdef0123456789abcdef", endpoint.TargetRoot, 4 * MiB)));
    }

    [Fact]
    public async Task NodeExpandVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodeExpandVolumeAsync(Expand("", endpoint.TargetRoot, 4 * MiB)), "volume_id");
    }

    [Fact]
    public async Task NodeExpandVolume_NoVolumePath_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("node-expand-nopath");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Node.NodeExpandVolumeAsync(Expand(volume.VolumeId, "", 4 * MiB)), "volume_path");
    }

    private static NodeExpandVolumeRequest Expand(string volumeId, string volumePath, long requiredBytes) =>
        new()
        {
            VolumeId = volumeId,
            VolumePath = volumePath,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes },
        };

    private async Task<(Volume Volume, string Target)> PublishedAsync(string label)
    {
        var volume = await endpoint.CreateVolumeAsync(label, requiredBytes: 4 * MiB);
        string target = endpoint.NewTargetWithParent(label);
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));
        return (volume, target);
    }

    private Task UnpublishAsync(Volume volume, string target) =>
        Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target)).ResponseAsync;
}
