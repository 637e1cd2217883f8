using Csi.V1;
using CsiHostPath.Snapshots;
using CsiHostPath.Volumes;
using Grpc.Core;
using static CsiHostPath.Grpc.RequestValidation;
using CapabilityType = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using DomainCondition = CsiHostPath.Volumes.VolumeCondition;

namespace CsiHostPath.Grpc;

public sealed class ControllerService(VolumeManager volumes, SnapshotManager snapshots, VolumeHealth health, NodeTopology topology) : Controller.ControllerBase
{
    private static readonly CapabilityType[] Capabilities =
    [
        CapabilityType.CreateDeleteVolume,
        CapabilityType.ListVolumes,
        CapabilityType.GetCapacity,
        CapabilityType.GetVolume,
        CapabilityType.VolumeCondition,
        CapabilityType.SingleNodeMultiWriter,
        CapabilityType.ExpandVolume,
        CapabilityType.CreateDeleteSnapshot,
        CapabilityType.ListSnapshots,
        CapabilityType.GetSnapshot,
        CapabilityType.CloneVolume,
    ];

    public override Task<CreateVolumeResponse> CreateVolume(CreateVolumeRequest request, ServerCallContext context)
    {
        var name = RequireName(request.Name);
        var accesses = CapabilityTranslation.ToAccesses(request.VolumeCapabilities, "volume_capabilities");
        var spec = new VolumeSpec(
            name,
            new Volumes.CapacityRange(request.CapacityRange?.RequiredBytes ?? 0, request.CapacityRange?.LimitBytes ?? 0),
            accesses,
            Map(request.Parameters),
            request.AccessibilityRequirements?.Requisite.Select(t => (IReadOnlyDictionary<string, string>)t.Segments).ToList() ?? [],
            ToSource(request.VolumeContentSource));
        var record = volumes.Create(spec, context.CancellationToken);
        return Task.FromResult(new CreateVolumeResponse { Volume = ToVolume(record) });
    }

    public override Task<DeleteVolumeResponse> DeleteVolume(DeleteVolumeRequest request, ServerCallContext context)
    {
        volumes.Delete(RequireName(request.VolumeId));
        return Task.FromResult(new DeleteVolumeResponse());
    }

    public override Task<ValidateVolumeCapabilitiesResponse> ValidateVolumeCapabilities(ValidateVolumeCapabilitiesRequest request, ServerCallContext context)
    {
        var volumeId = RequireName(request.VolumeId);
        var accesses = CapabilityTranslation.ToAccesses(request.VolumeCapabilities, "volume_capabilities");
        var record = volumes.Get(volumeId);
        var refusal = accesses.Select(a => VolumeAccessPolicy.Refusal(record, a)).FirstOrDefault(r => r is not null);
        if (refusal is null && request.Parameters.Count > 0 && !request.Parameters.All(p => record.Parameters.TryGetValue(p.Key, out var v) && v == p.Value))
            refusal = "parameters differ from those the volume was created with";
        var response = new ValidateVolumeCapabilitiesResponse();
        if (refusal is not null)
        {
            response.Message = refusal;
            return Task.FromResult(response);
        }
        response.Confirmed = new ValidateVolumeCapabilitiesResponse.Types.Confirmed
        {
            VolumeCapabilities = { request.VolumeCapabilities },
            VolumeContext = { request.VolumeContext },
            Parameters = { request.Parameters },
            MutableParameters = { request.MutableParameters },
        };
        return Task.FromResult(response);
    }

    public override Task<ListVolumesResponse> ListVolumes(ListVolumesRequest request, ServerCallContext context)
    {
        if (request.MaxEntries < 0)
            throw Invalid("max_entries", "must not be negative");
        var (page, nextToken) = volumes.List(request.MaxEntries, request.StartingToken);
        var response = new ListVolumesResponse { NextToken = nextToken };
        var mounts = health.ReadMounts();
        foreach (var record in page)
        {
            response.Entries.Add(new ListVolumesResponse.Types.Entry
            {
                Volume = ToVolume(record),
                Status = new ListVolumesResponse.Types.VolumeStatus { VolumeCondition = ToCondition(health.Check(record, mounts)) },
            });
        }
        return Task.FromResult(response);
    }

    public override Task<ControllerGetVolumeResponse> ControllerGetVolume(ControllerGetVolumeRequest request, ServerCallContext context)
    {
        var record = volumes.Get(RequireName(request.VolumeId));
        return Task.FromResult(new ControllerGetVolumeResponse
        {
            Volume = ToVolume(record),
            Status = new ControllerGetVolumeResponse.Types.VolumeStatus { VolumeCondition = ToCondition(health.Check(record)) },
        });
    }

    public override Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)
    {
        // Capacity elsewhere, or for a capability this driver cannot honour, is none; GetCapacity's rules say so with 0, not an error.
        if (request.AccessibleTopology is { } requested && !topology.SatisfiesRequisite([requested.Segments]))
            return Task.FromResult(new GetCapacityResponse());
        var accesses = request.VolumeCapabilities.Select(c => CapabilityTranslation.ToAccess(c, "volume_capabilities")).ToList();
        var (available, minimum) = volumes.Capacity(Map(request.Parameters), accesses);
        return Task.FromResult(new GetCapacityResponse
        {
            AvailableCapacity = available,
            MaximumVolumeSize = available,
            MinimumVolumeSize = minimum,
        });
    }

    public override Task<ControllerExpandVolumeResponse> ControllerExpandVolume(ControllerExpandVolumeRequest request, ServerCallContext context)
    {
        var volumeId = RequireName(request.VolumeId);
        var range = Require(request.CapacityRange);
        var record = volumes.GetHere(volumeId);
        if (request.VolumeCapability is not null
            && VolumeAccessPolicy.Refusal(record, CapabilityTranslation.ToAccess(request.VolumeCapability, "volume_capability")) is { } refusal)
            throw Invalid("volume_capability", refusal);
        var (capacity, nodeExpansion) = volumes.Expand(volumeId, new Volumes.CapacityRange(range.RequiredBytes, range.LimitBytes));
        return Task.FromResult(new ControllerExpandVolumeResponse { CapacityBytes = capacity, NodeExpansionRequired = nodeExpansion });
    }

    public override Task<CreateSnapshotResponse> CreateSnapshot(CreateSnapshotRequest request, ServerCallContext context)
    {
        var name = RequireName(request.Name);
        var sourceVolumeId = RequireName(request.SourceVolumeId);
        if (request.Parameters.Count > 0)
            throw Invalid("parameters", $"are not supported ({string.Join(", ", request.Parameters.Keys)}): a VolumeSnapshotClass for this driver takes none");
        var record = snapshots.Create(name, sourceVolumeId, context.CancellationToken);
        return Task.FromResult(new CreateSnapshotResponse { Snapshot = ToSnapshot(record) });
    }

    public override Task<DeleteSnapshotResponse> DeleteSnapshot(DeleteSnapshotRequest request, ServerCallContext context)
    {
        snapshots.Delete(RequireName(request.SnapshotId));
        return Task.FromResult(new DeleteSnapshotResponse());
    }

    public override Task<ListSnapshotsResponse> ListSnapshots(ListSnapshotsRequest request, ServerCallContext context)
    {
        if (request.MaxEntries < 0)
            throw Invalid("max_entries", "must not be negative");
        var (page, nextToken) = snapshots.List(request.MaxEntries, request.StartingToken, request.SnapshotId, request.SourceVolumeId);
        var response = new ListSnapshotsResponse { NextToken = nextToken };
        foreach (var record in page)
            response.Entries.Add(new ListSnapshotsResponse.Types.Entry { Snapshot = ToSnapshot(record) });
        return Task.FromResult(response);
    }

    public override Task<GetSnapshotResponse> GetSnapshot(GetSnapshotRequest request, ServerCallContext context) =>
        Task.FromResult(new GetSnapshotResponse { Snapshot = ToSnapshot(snapshots.Get(RequireName(request.SnapshotId))) });

    public override Task<ControllerGetCapabilitiesResponse> ControllerGetCapabilities(ControllerGetCapabilitiesRequest request, ServerCallContext context)
    {
        var response = new ControllerGetCapabilitiesResponse();
        foreach (var type in Capabilities)
            response.Capabilities.Add(new ControllerServiceCapability { Rpc = new ControllerServiceCapability.Types.RPC { Type = type } });
        return Task.FromResult(response);
    }

    private Volume ToVolume(VolumeRecord record)
    {
        var volume = new Volume
        {
            VolumeId = record.VolumeId,
            CapacityBytes = record.CapacityBytes,
            AccessibleTopology = { new Topology { Segments = { topology.Segments } } },
            ContentSource = record.Source switch
            {
                null => null,
                { Kind: VolumeSourceKind.Snapshot } source => new VolumeContentSource
                {
                    Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = source.Id },
                },
                var source => new VolumeContentSource { Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = source.Id } },
            },
        };
        foreach (var (key, value) in record.Parameters)
        {
            if (!key.StartsWith(VolumeParameters.KubernetesPrefix, StringComparison.Ordinal))
                volume.VolumeContext[key] = value;
        }
        return volume;
    }

    private static VolumeSource? ToSource(VolumeContentSource? source) => source?.TypeCase switch
    {
        null => null,
        VolumeContentSource.TypeOneofCase.Snapshot => new VolumeSource(VolumeSourceKind.Snapshot, RequireName(source.Snapshot.SnapshotId)),
        VolumeContentSource.TypeOneofCase.Volume => new VolumeSource(VolumeSourceKind.Volume, RequireName(source.Volume.VolumeId)),
        _ => throw Invalid("volume_content_source", "names neither a snapshot nor a volume"),
    };

    internal static Snapshot ToSnapshot(SnapshotRecord record) => new()
    {
        SnapshotId = record.SnapshotId,
        SourceVolumeId = record.SourceVolumeId,
        SizeBytes = record.SizeBytes,
        CreationTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(record.CreatedAt),
        // Cut synchronously: there is no post-processing, so a snapshot is usable once it exists.
        ReadyToUse = true,
        GroupSnapshotId = record.GroupSnapshotId,
    };

    internal static Csi.V1.VolumeCondition ToCondition(DomainCondition condition) =>
        new() { Abnormal = condition.Abnormal, Message = condition.Message };
}
