using Csi.V1;
using CsiHostPath.Bench.Stats;
using CsiHostPath.Client;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// The controller calls the sidecars make about a node whatever its pods do: ControllerGetVolume (external-health-monitor,
/// per volume) and GetCapacity for image volumes (external-provisioner's capacity tracking). Their cost must not grow
/// with how many volumes the node has, nor with a walk running beside them.
/// </summary>
public static class ControllerProbes
{
    private static readonly GetCapacityRequest ImageCapacity = new() { Parameters = { ["backing"] = "image" } };

    public static async Task RunAsync(CsiClient client, RpcStats stats, string volumeId)
    {
        await stats.TimeAsync("ControllerGetVolume", () => client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId }));
        await stats.TimeAsync("GetCapacity", () => client.Controller.GetCapacityAsync(ImageCapacity));
    }
}
