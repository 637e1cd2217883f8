using Csi.V1;
using CsiHostPath.Options;
using CsiHostPath.Volumes;
using Grpc.Core;
using static CsiHostPath.Grpc.RequestValidation;
using CapabilityType = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.Grpc;

public sealed class NodeService(VolumePublisher publisher, EphemeralVolumes ephemeral, NodeTopology topology, DriverOptions options) : Node.NodeBase
{
    private static readonly CapabilityType[] Capabilities =
    [
        CapabilityType.GetVolumeStats,
        CapabilityType.VolumeCondition,
        CapabilityType.SingleNodeMultiWriter,
        CapabilityType.ExpandVolume,
    ];

    public override Task<NodePublishVolumeResponse> NodePublishVolume(NodePublishVolumeRequest request, ServerCallContext context)
    {
        var volumeId = RequireName(request.VolumeId);
        var targetPath = RequireAbsolutePath(request.TargetPath);
        var access = CapabilityTranslation.ToAccess(Require(request.VolumeCapability), "volume_capability");
        if (EphemeralVolumeAttributes.IsEphemeral(request.VolumeContext))
            ephemeral.Publish(volumeId, targetPath, access, request.Readonly, request.VolumeContext);
        else
            publisher.Publish(volumeId, targetPath, access, request.Readonly);
        return Task.FromResult(new NodePublishVolumeResponse());
    }

    public override Task<NodeUnpublishVolumeResponse> NodeUnpublishVolume(NodeUnpublishVolumeRequest request, ServerCallContext context)
    {
        var volumeId = RequireName(request.VolumeId);
        var targetPath = RequireAbsolutePath(request.TargetPath);
        if (EphemeralVolumes.IsEphemeralVolumeId(volumeId))
            ephemeral.Unpublish(volumeId, targetPath);
        else
            publisher.Unpublish(volumeId, targetPath);
        return Task.FromResult(new NodeUnpublishVolumeResponse());
    }

    public override Task<NodeGetVolumeStatsResponse> NodeGetVolumeStats(NodeGetVolumeStatsRequest request, ServerCallContext context)
    {
        // A volume_path that is not even absolute cannot be where the volume is published: NOT_FOUND, as the spec's table says.
        var volumeId = RequireName(request.VolumeId);
        if (request.VolumePath.Length == 0)
            throw Invalid("volume_path", "is required");
        var (usage, condition) = publisher.Stats(volumeId, request.VolumePath);
        return Task.FromResult(new NodeGetVolumeStatsResponse
        {
            Usage =
            {
                new Csi.V1.VolumeUsage { Unit = Csi.V1.VolumeUsage.Types.Unit.Bytes, Total = usage.TotalBytes, Used = usage.UsedBytes, Available = usage.AvailableBytes },
                new Csi.V1.VolumeUsage { Unit = Csi.V1.VolumeUsage.Types.Unit.Inodes, Total = usage.TotalInodes, Used = usage.UsedInodes, Available = usage.AvailableInodes },
            },
            VolumeCondition = ControllerService.ToCondition(condition),
        });
    }

    public override Task<NodeExpandVolumeResponse> NodeExpandVolume(NodeExpandVolumeRequest request, ServerCallContext context)
    {
        var volumeId = RequireName(request.VolumeId);
        if (request.VolumePath.Length == 0)
            throw Invalid("volume_path", "is required");
        var range = request.CapacityRange ?? new Csi.V1.CapacityRange();
        var access = request.VolumeCapability is null ? null : CapabilityTranslation.ToAccess(request.VolumeCapability, "volume_capability");
        long capacity = publisher.ExpandFileSystem(volumeId, request.VolumePath, new Volumes.CapacityRange(range.RequiredBytes, range.LimitBytes), access);
        return Task.FromResult(new NodeExpandVolumeResponse { CapacityBytes = capacity });
    }

    public override Task<NodeGetCapabilitiesResponse> NodeGetCapabilities(NodeGetCapabilitiesRequest request, ServerCallContext context)
    {
        var response = new NodeGetCapabilitiesResponse();
        foreach (var type in Capabilities)
            response.Capabilities.Add(new NodeServiceCapability { Rpc = new NodeServiceCapability.Types.RPC { Type = type } });
        return Task.FromResult(response);
    }

    public override Task<NodeGetInfoResponse> NodeGetInfo(NodeGetInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeGetInfoResponse
        {
            NodeId = options.NodeId,
            MaxVolumesPerNode = options.MaxVolumesPerNode,
            AccessibleTopology = new Topology { Segments = { topology.Segments } },
        });
}
