using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Type = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "ControllerGetCapabilities": every RPC the rest of this suite calls is advertised, and nothing it does not serve.</summary>
public sealed class ControllerGetCapabilitiesTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    [Fact]
    public async Task ControllerGetCapabilities_Always_AdvertisesProvisioningListingAndCapacity()
    {
        var response = await endpoint.Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        var types = response.Capabilities.Select(c => c.Rpc.Type).ToList();

        Assert.Contains(Type.CreateDeleteVolume, types);
        Assert.Contains(Type.ListVolumes, types);
        Assert.Contains(Type.GetCapacity, types);
        Assert.Contains(Type.GetVolume, types);
        Assert.Equal(types.Count, types.Distinct().Count());
    }

    [Fact]
    public async Task ControllerGetCapabilities_Always_ListsEachCapabilityAsAnRpc()
    {
        var response = await endpoint.Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());

        Assert.All(response.Capabilities, c =>
        {
            Assert.Equal(ControllerServiceCapability.TypeOneofCase.Rpc, c.TypeCase);
            Assert.NotEqual(Type.Unknown, c.Rpc.Type);
        });
    }
}
