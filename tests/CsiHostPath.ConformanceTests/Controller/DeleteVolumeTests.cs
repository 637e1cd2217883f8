using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "DeleteVolume": the volume is gone, deleting twice or an unknown id is OK, a published volume is kept.</summary>
public sealed class DeleteVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task DeleteVolume_Existing_VolumeNoLongerFound()
    {
        var volume = await endpoint.CreateVolumeAsync("delete");

        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });

        await CsiAssert.FailsWith(StatusCode.NotFound,
            () => Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }));
        var listed = await Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.DoesNotContain(listed.Entries, e => e.Volume.VolumeId == volume.VolumeId);
    }

    [Fact]
    public async Task DeleteVolume_Twice_SecondCallOk()
    {
        var volume = await endpoint.CreateVolumeAsync("delete-twice");

        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });

        await CsiAssert.FailsWith(StatusCode.NotFound,
            () => Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }));
    }

    [Fact]
    public async Task DeleteVolume_UnknownId_Ok()
    {
        // Spec: a volume_id that does not exist, or no longer does, MUST give OK.
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = "0123456789abcdef0123456789abcdef" });
    }

    [Fact]
    public async Task DeleteVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.DeleteVolumeAsync(new DeleteVolumeRequest()), "volume_id");
    }

    [Fact]
    public async Task DeleteVolume_ThenCreateSameName_NewEmptyVolume()
    {
        string name = VolumeNames.New("recreate");
        var first = (await Controller.CreateVolumeAsync(endpoint.Requests.Create(name))).Volume;
        string target = endpoint.NewTargetWithParent("recreate");
        await endpoint.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(first.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "old"), "old data");
        await endpoint.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(first.VolumeId, target));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = first.VolumeId });

        var second = (await Controller.CreateVolumeAsync(endpoint.Requests.Create(name))).Volume;
        await endpoint.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(second.VolumeId, target));

        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
        await endpoint.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(second.VolumeId, target));
    }

    [Fact]
    public async Task DeleteVolume_WhilePublished_FailedPreconditionAndDataKept()
    {
        var volume = await endpoint.CreateVolumeAsync("in-use");
        string target = endpoint.NewTargetWithParent("in-use");
        await endpoint.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "data"), "precious");

        await CsiAssert.FailsWith(StatusCode.FailedPrecondition,
            () => Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }));

        Assert.Equal("precious", await File.ReadAllTextAsync(Path.Combine(target, "data")));
        await endpoint.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
    }
}
