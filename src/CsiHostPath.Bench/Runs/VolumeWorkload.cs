using Csi.V1;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Client;
using CsiHostPath.Bench.Stats;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// The calls external-provisioner and kubelet make for one PVC, with requests shaped like theirs:
/// topology from NodeGetInfo, staging only where NodeGetCapabilities advertises it, and the volume_context handed on.
/// </summary>
public sealed class VolumeWorkload(BenchOptions options, PluginFacts plugin, RpcStats stats, string workDir)
{
    private static readonly VolumeCapability Capability = new()
    {
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
        Mount = new VolumeCapability.Types.MountVolume(),
    };

    public async Task CreateDeleteAsync(CsiClient connection, string name)
    {
        var volume = await CreateAsync(connection, name);
        await DeleteVolumeAsync(connection, volume);
    }

    public async Task LifecycleAsync(CsiClient connection, string name)
    {
        var volume = await CreateAsync(connection, name);
        string podDir = Path.Combine(workDir, name);
        Directory.CreateDirectory(podDir);
        try
        {
            await NodeAsync(connection, volume, podDir);
        }
        finally
        {
            await DeleteVolumeAsync(connection, volume);
            WorkDirectory.RemoveIfEmpty(podDir);
        }
    }

    private async Task NodeAsync(CsiClient connection, Volume volume, string podDir)
    {
        string target = Path.Combine(podDir, "mount");
        if (!plugin.Staging)
        {
            await PublishAsync(connection, volume, stagingPath: "", target);
            return;
        }
        string stagingPath = Path.Combine(podDir, "staging");
        Directory.CreateDirectory(stagingPath);
        await stats.TimeAsync("NodeStageVolume", () => connection.Node.NodeStageVolumeAsync(new NodeStageVolumeRequest
        {
            VolumeId = volume.VolumeId,
            StagingTargetPath = stagingPath,
            VolumeCapability = Capability,
            VolumeContext = { volume.VolumeContext },
        }));
        try
        {
            await PublishAsync(connection, volume, stagingPath, target);
        }
        finally
        {
            await stats.TimeAsync("NodeUnstageVolume", () => connection.Node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest
            {
                VolumeId = volume.VolumeId,
                StagingTargetPath = stagingPath,
            }));
            WorkDirectory.RemoveIfEmpty(stagingPath);
        }
    }

    private async Task PublishAsync(CsiClient connection, Volume volume, string stagingPath, string target)
    {
        await stats.TimeAsync("NodePublishVolume", () => connection.Node.NodePublishVolumeAsync(new NodePublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            StagingTargetPath = stagingPath,
            TargetPath = target,
            VolumeCapability = Capability,
            VolumeContext = { volume.VolumeContext },
        }));
        await stats.TimeAsync("NodeUnpublishVolume", () => connection.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            TargetPath = target,
        }));
    }

    public async Task<Volume> CreateAsync(CsiClient connection, string name)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = options.SizeBytes },
            VolumeCapabilities = { Capability },
        };
        foreach (var (key, value) in options.Parameters)
            request.Parameters[key] = value;
        if (plugin.Topology is { } topology)
            request.AccessibilityRequirements = new TopologyRequirement { Requisite = { topology }, Preferred = { topology } };
        return (await stats.TimeAsync("CreateVolume", () => connection.Controller.CreateVolumeAsync(request))).Volume;
    }

    private Task DeleteVolumeAsync(CsiClient connection, Volume volume) =>
        stats.TimeAsync("DeleteVolume", () => connection.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }));
}
