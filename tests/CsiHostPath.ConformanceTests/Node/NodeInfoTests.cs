using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Type = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Node;

/// <summary>Spec "NodeGetCapabilities" and "NodeGetInfo": what kubelet and the scheduler learn about the node.</summary>
public sealed class NodeInfoTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    [Fact]
    public async Task NodeGetCapabilities_Always_NoStagingAndEachCapabilityAnRpc()
    {
        var response = await endpoint.Client.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());

        Assert.All(response.Capabilities, c => Assert.NotEqual(Type.Unknown, c.Rpc.Type));
        Assert.DoesNotContain(response.Capabilities, c => c.Rpc.Type == Type.StageUnstageVolume);
        Assert.Contains(response.Capabilities, c => c.Rpc.Type == Type.GetVolumeStats);
    }

    [Fact]
    public async Task NodeGetInfo_Always_NodeIdAndTopologyCreatedVolumesCarry()
    {
        var info = await endpoint.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());

        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(info.NodeId), 1, 256);
        Assert.True(info.MaxVolumesPerNode >= 0);
        var volume = await endpoint.CreateVolumeAsync("topology");
        Assert.Contains(volume.AccessibleTopology, t => t.Equals(info.AccessibleTopology));
    }
}
