using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "ControllerGetVolume" (GET_VOLUME, VOLUME_CONDITION): the volume as created, healthy, NOT_FOUND once gone.</summary>
public sealed class ControllerGetVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task ControllerGetVolume_Existing_ReturnsItAsCreated()
    {
        var volume = await endpoint.CreateVolumeAsync("get", requiredBytes: 2 << 20);

        var response = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });

        Assert.Equal(volume.VolumeId, response.Volume.VolumeId);
        Assert.Equal(volume.CapacityBytes, response.Volume.CapacityBytes);
        Assert.Equal(volume.AccessibleTopology, response.Volume.AccessibleTopology);
        Assert.NotNull(response.Status);
    }

    [Fact]
    public async Task ControllerGetVolume_HealthyVolume_ConditionNotAbnormal()
    {
        Assert.Contains(ControllerCapability.VolumeCondition, endpoint.ControllerCapabilities);
        var volume = await endpoint.CreateVolumeAsync("condition");

        var response = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });

        Assert.NotNull(response.Status.VolumeCondition);
        Assert.False(response.Status.VolumeCondition.Abnormal, response.Status.VolumeCondition.Message);
    }

    [Fact]
    public async Task ControllerGetVolume_UnknownVolume_NotFound()
    {
        await CsiAssert.FailsWith(StatusCode.NotFound,
            () => Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = "0123456789abcdef0123456789abcdef" }));
    }

    [Fact]
    public async Task ControllerGetVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest()), "volume_id");
    }
}
