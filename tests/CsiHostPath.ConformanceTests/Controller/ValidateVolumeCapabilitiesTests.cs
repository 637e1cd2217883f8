using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "ValidateVolumeCapabilities": confirmed only for what the volume supports, NOT_FOUND for unknown volumes.</summary>
public sealed class ValidateVolumeCapabilitiesTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task ValidateVolumeCapabilities_CapabilityItWasCreatedWith_Confirmed()
    {
        var volume = await endpoint.CreateVolumeAsync("validate");
        var request = new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId,
            VolumeCapabilities = { endpoint.Requests.Capability() },
        };

        var response = await Controller.ValidateVolumeCapabilitiesAsync(request);

        Assert.NotNull(response.Confirmed);
        Assert.Equal(request.VolumeCapabilities, response.Confirmed.VolumeCapabilities);
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_SingleNodeWriter_Confirmed()
    {
        var volume = await endpoint.CreateVolumeAsync("validate-snw");

        var response = await Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId,
            VolumeCapabilities = { endpoint.Requests.Capability(Mode.SingleNodeWriter) },
        });

        Assert.NotNull(response.Confirmed);
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_BlockOnDirectoryVolume_NotConfirmedWithMessage()
    {
        var volume = await endpoint.CreateVolumeAsync("validate-block");

        var response = await Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId,
            VolumeCapabilities = { VolumeRequests.BlockCapability() },
        });

        // Spec: confirmed is empty unless every capability is supported; message SHOULD say why.
        Assert.Null(response.Confirmed);
        Assert.NotEmpty(response.Message);
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_SupportedAndUnsupportedTogether_NotConfirmed()
    {
        var volume = await endpoint.CreateVolumeAsync("validate-mixed");

        var response = await Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId,
            VolumeCapabilities = { endpoint.Requests.Capability(), endpoint.Requests.Capability(Mode.MultiNodeMultiWriter) },
        });

        Assert.Null(response.Confirmed);
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_UnknownVolume_NotFound()
    {
        await CsiAssert.FailsWith(StatusCode.NotFound, () => Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = "0123456789abcdef0123456789abcdef",
            VolumeCapabilities = { endpoint.Requests.Capability() },
        }));
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
        {
            VolumeCapabilities = { endpoint.Requests.Capability() },
        }), "volume_id");
    }

    [Fact]
    public async Task ValidateVolumeCapabilities_NoCapabilities_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("validate-none");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest { VolumeId = volume.VolumeId }),
            "volume_capabilities");
    }
}
