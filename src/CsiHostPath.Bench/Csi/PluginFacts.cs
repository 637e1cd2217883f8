using CsiHostPath.Client;
using Csi.V1;
using CsiHostPath.Bench.Output;
using CsiHostPath.Bench.Stats;

namespace CsiHostPath.Bench.Csi;

/// <summary>What kubelet and external-provisioner learn from a driver before they use it.</summary>
public sealed record PluginFacts(string Name, string Version, string NodeId, Topology? Topology, bool Staging)
{
    public static async Task<PluginFacts> DiscoverAsync(CsiClient connection, RpcStats stats)
    {
        var info = await stats.TimeAsync("GetPluginInfo", () => connection.Identity.GetPluginInfoAsync(new GetPluginInfoRequest()));
        var node = await stats.TimeAsync("NodeGetInfo", () => connection.Node.NodeGetInfoAsync(new NodeGetInfoRequest()));
        var capabilities = await stats.TimeAsync("NodeGetCapabilities", () => connection.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest()));
        bool staging = capabilities.Capabilities.Any(c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume);
        return new PluginFacts(info.Name, info.VendorVersion, node.NodeId, node.AccessibleTopology, staging);
    }

    public PluginReport ToReport() =>
        new(Name, Version, NodeId, Staging, Topology?.Segments.ToDictionary() ?? []);
}
