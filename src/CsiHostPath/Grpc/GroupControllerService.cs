using Csi.V1;
using CsiHostPath.Snapshots;
using Grpc.Core;
using static CsiHostPath.Grpc.RequestValidation;
using CapabilityType = Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.Grpc;

public sealed class GroupControllerService(GroupSnapshotManager groups) : GroupController.GroupControllerBase
{
    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(
        GroupControllerGetCapabilitiesRequest request, ServerCallContext context) =>
        Task.FromResult(new GroupControllerGetCapabilitiesResponse
        {
            Capabilities =
            {
                new GroupControllerServiceCapability
                {
                    Rpc = new GroupControllerServiceCapability.Types.RPC { Type = CapabilityType.CreateDeleteGetVolumeGroupSnapshot },
                },
            },
        });

    public override Task<CreateVolumeGroupSnapshotResponse> CreateVolumeGroupSnapshot(CreateVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var name = RequireName(request.Name);
        if (request.SourceVolumeIds.Count == 0)
            throw Invalid("source_volume_ids", "is required");
        foreach (var volumeId in request.SourceVolumeIds)
            RequireName(volumeId, "source_volume_ids");
        if (request.Parameters.Count > 0)
            throw Invalid("parameters", $"are not supported ({string.Join(", ", request.Parameters.Keys)}): a VolumeGroupSnapshotClass for this driver takes none");
        var (group, members) = groups.Create(name, [.. request.SourceVolumeIds], context.CancellationToken);
        return Task.FromResult(new CreateVolumeGroupSnapshotResponse { GroupSnapshot = ToGroupSnapshot(group, members) });
    }

    public override Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        groups.Delete(RequireName(request.GroupSnapshotId), SnapshotIds(request.SnapshotIds));
        return Task.FromResult(new DeleteVolumeGroupSnapshotResponse());
    }

    public override Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var (group, members) = groups.Get(RequireName(request.GroupSnapshotId), SnapshotIds(request.SnapshotIds));
        return Task.FromResult(new GetVolumeGroupSnapshotResponse { GroupSnapshot = ToGroupSnapshot(group, members) });
    }

    private static List<string> SnapshotIds(IEnumerable<string> ids) => [.. ids.Select(id => RequireName(id, "snapshot_ids"))];

    private static VolumeGroupSnapshot ToGroupSnapshot(GroupSnapshotRecord group, IReadOnlyList<SnapshotRecord> members) => new()
    {
        GroupSnapshotId = group.GroupSnapshotId,
        CreationTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(group.CreatedAt),
        ReadyToUse = true,
        Snapshots = { members.Select(ControllerService.ToSnapshot) },
    };
}
