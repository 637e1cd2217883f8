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
        string target = await MountAsync(connection, volume, podDir);
        await UnmountAsync(connection, volume, podDir, target);
    }

    /// <summary>What kubelet does to start a pod: NodeStage (where advertised) and NodePublish into <paramref name="podDir"/>; returns the target.</summary>
    public async Task<string> MountAsync(CsiClient connection, Volume volume, string podDir)
    {
        string target = Path.Combine(podDir, "mount");
        string stagingPath = plugin.Staging ? Path.Combine(podDir, "staging") : "";
        if (plugin.Staging)
        {
            Directory.CreateDirectory(stagingPath);
            await stats.TimeAsync("NodeStageVolume", () => connection.Node.NodeStageVolumeAsync(new NodeStageVolumeRequest
            {
                VolumeId = volume.VolumeId,
                StagingTargetPath = stagingPath,
                VolumeCapability = Capability,
                VolumeContext = { volume.VolumeContext },
            }));
        }
        try
        {
            await PublishAsync(connection, volume, target, stagingPath);
        }
        catch when (plugin.Staging)
        {
            await UnstageAsync(connection, volume, stagingPath);
            throw;
        }
        return target;
    }

    /// <summary>What kubelet does when the pod is gone: NodeUnpublish, then NodeUnstage where staged.</summary>
    public async Task UnmountAsync(CsiClient connection, Volume volume, string podDir, string target)
    {
        try
        {
            await UnpublishAsync(connection, volume, target);
        }
        finally
        {
            if (plugin.Staging)
                await UnstageAsync(connection, volume, Path.Combine(podDir, "staging"));
        }
    }

    private async Task UnstageAsync(CsiClient connection, Volume volume, string stagingPath)
    {
        await stats.TimeAsync("NodeUnstageVolume", () => connection.Node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest
        {
            VolumeId = volume.VolumeId,
            StagingTargetPath = stagingPath,
        }));
        WorkDirectory.RemoveIfEmpty(stagingPath);
    }

    private Task PublishAsync(CsiClient connection, Volume volume, string target, string stagingPath = "") =>
        stats.TimeAsync("NodePublishVolume", () => connection.Node.NodePublishVolumeAsync(new NodePublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            StagingTargetPath = stagingPath,
            TargetPath = target,
            VolumeCapability = Capability,
            VolumeContext = { volume.VolumeContext },
        }));

    private Task UnpublishAsync(CsiClient connection, Volume volume, string target) =>
        stats.TimeAsync("NodeUnpublishVolume", () => connection.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            TargetPath = target,
        }));

    /// <summary>A new volume, empty or (timed apart, as "CreateVolume (restore)") filled from <paramref name="source"/>.</summary>
    public async Task<Volume> CreateAsync(CsiClient connection, string name, VolumeContentSource? source = null)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = options.SizeBytes },
            VolumeCapabilities = { Capability },
            VolumeContentSource = source,
        };
        foreach (var (key, value) in options.Parameters)
            request.Parameters[key] = value;
        if (plugin.Topology is { } topology)
            request.AccessibilityRequirements = new TopologyRequirement { Requisite = { topology }, Preferred = { topology } };
        return (await stats.TimeAsync(source is null ? "CreateVolume" : "CreateVolume (restore)", () => connection.Controller.CreateVolumeAsync(request))).Volume;
    }

    public Task DeleteVolumeAsync(CsiClient connection, Volume volume) =>
        stats.TimeAsync("DeleteVolume", () => connection.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }));
}
