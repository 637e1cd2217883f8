using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;

namespace CsiHostPath.ConformanceTests.OwnDriver;

/// <summary>
/// The hostile table's block and fs_type rows are refusals only for csi-hostpath's default directory backing: with
/// the StorageClass parameter backing: image the same capabilities make a volume (a parameter other drivers need not
/// know, hence skipped when CSI_ENDPOINT points elsewhere). Each test deletes its volumes, which detaches their loop devices.
/// </summary>
public sealed class ImageBackingTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private const long MiB = 1 << 20;

    [OwnDriverFact]
    public async Task CreateVolume_BlockWithBackingImage_PublishesADeviceNode()
    {
        var request = ImageRequest("image-block", 8 * MiB);
        request.VolumeCapabilities[0] = VolumeRequests.BlockCapability();
        var volume = (await endpoint.Client.Controller.CreateVolumeAsync(request)).Volume;
        string target = endpoint.NewTargetWithParent("image-block");
        try
        {
            var publish = endpoint.Requests.Publish(volume.VolumeId, target);
            publish.VolumeCapability = VolumeRequests.BlockCapability();
            await endpoint.Client.Node.NodePublishVolumeAsync(publish);

            Assert.True(Mounts.IsMountPoint(target), $"{target} is not a mount point");
            Assert.False(Directory.Exists(target), "a block volume's target is a device node, not a directory");
            Assert.Equal(8 * MiB, long.Parse(LoopFileSystem.Run("blockdev", "--getsize64", target).Trim(), System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            await endpoint.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));
            await endpoint.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
        }
    }

    [OwnDriverFact]
    public async Task CreateVolume_FsTypeXfsWithBackingImage_MountsAnXfsFilesystem()
    {
        var request = ImageRequest("image-xfs", 300 * MiB);
        request.VolumeCapabilities[0] = endpoint.Requests.Capability(fsType: "xfs");
        var volume = (await endpoint.Client.Controller.CreateVolumeAsync(request)).Volume;
        string target = endpoint.NewTargetWithParent("image-xfs");
        try
        {
            var publish = endpoint.Requests.Publish(volume.VolumeId, target);
            publish.VolumeCapability = endpoint.Requests.Capability(fsType: "xfs");
            await endpoint.Client.Node.NodePublishVolumeAsync(publish);

            Assert.Equal("xfs", new DriveInfo(target).DriveFormat);
        }
        finally
        {
            await endpoint.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));
            await endpoint.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
        }
    }

    private CreateVolumeRequest ImageRequest(string label, long bytes)
    {
        var request = endpoint.Requests.Create(VolumeNames.New(label), bytes);
        request.Parameters["backing"] = "image";
        return request;
    }
}
