using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "GetCapacity": room for the volumes it can make, none for what it cannot or where it cannot.</summary>
public sealed class GetCapacityTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task GetCapacity_NoFilter_PositiveAndEnoughForAVolume()
    {
        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest());

        Assert.True(capacity.AvailableCapacity >= VolumeRequests.DefaultSize, $"available {capacity.AvailableCapacity}");
        await endpoint.CreateVolumeAsync("fits");
    }

    [Fact]
    public async Task GetCapacity_SupportedCapabilityAndThisNode_Positive()
    {
        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest
        {
            VolumeCapabilities = { endpoint.Requests.Capability() },
            AccessibleTopology = endpoint.NodeTopology,
        });

        Assert.True(capacity.AvailableCapacity > 0);
    }

    [Fact]
    public async Task GetCapacity_BlockCapability_Zero()
    {
        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest { VolumeCapabilities = { VolumeRequests.BlockCapability() } });

        // Spec: capacity is of the storage that can provision volumes satisfying ALL the capabilities; none can be block.
        Assert.Equal(0, capacity.AvailableCapacity);
    }

    [Fact]
    public async Task GetCapacity_MultiNodeMode_Zero()
    {
        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest
        {
            VolumeCapabilities = { endpoint.Requests.Capability(Mode.MultiNodeMultiWriter) },
        });

        Assert.Equal(0, capacity.AvailableCapacity);
    }

    [Fact]
    public async Task GetCapacity_OtherNodesTopology_Zero()
    {
        var elsewhere = endpoint.NodeTopology.Clone();
        foreach (var key in elsewhere.Segments.Keys.ToList())
            elsewhere.Segments[key] = "not-" + elsewhere.Segments[key];

        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest { AccessibleTopology = elsewhere });

        Assert.Equal(0, capacity.AvailableCapacity);
    }
}
