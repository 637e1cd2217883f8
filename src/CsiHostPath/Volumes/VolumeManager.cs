using CsiHostPath.Options;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>The controller's volume rules: create, delete, look up and list volumes on this node.</summary>
public sealed partial class VolumeManager(
    IVolumeStore store,
    VolumeIndex index,
    VolumeLocks locks,
    NodeTopology topology,
    DataDirLayout layout,
    DriverOptions options,
    ILogger<VolumeManager> logger)
{
    public VolumeRecord Create(VolumeSpec spec)
    {
        VolumeParameters.Validate(spec.Parameters);
        foreach (var access in spec.Accesses)
        {
            if (VolumeAccessPolicy.Refusal(access) is { } refusal)
                throw new InvalidVolumeArgumentException("volume_capabilities", refusal);
        }
        if (!topology.SatisfiesRequisite(spec.RequisiteTopologies))
            throw new InsufficientCapacityException(
                $"accessibility_requirements exclude this node: volumes of this driver live only on {topology.Key}={topology.NodeId}");
        long size = spec.Capacity.Resolve(options.DefaultVolumeSizeBytes);

        string volumeId = VolumeId.FromName(spec.Name);
        using var lease = locks.Acquire(volumeId);
        if (index.Find(volumeId) is { } existing)
        {
            EnsureCompatible(existing, spec);
            return existing;
        }
        long available = FileSystemStats.Of(layout.Root).AvailableBytes;
        if (size > available)
            throw new InsufficientCapacityException($"a volume of {size} bytes does not fit: {available} bytes are free in {layout.Root}");

        var record = new VolumeRecord
        {
            VolumeId = volumeId,
            Name = spec.Name,
            CapacityBytes = size,
            Parameters = new Dictionary<string, string>(spec.Parameters),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        store.Create(record);
        index.Put(record);
        LogCreated(volumeId, spec.Name, size);
        return record;
    }

    private static void EnsureCompatible(VolumeRecord existing, VolumeSpec spec)
    {
        if (existing.Damage is not null)
            throw new VolumeConflictException($"volume '{spec.Name}' exists but is damaged ({existing.Damage}); delete it first");
        if (existing.Name != spec.Name)
            throw new VolumeConflictException($"volume id {existing.VolumeId} is taken by volume '{existing.Name}'");
        if (!spec.Capacity.Allows(existing.CapacityBytes))
            throw new VolumeConflictException(
                $"volume '{spec.Name}' already exists with {existing.CapacityBytes} bytes, outside the requested capacity_range");
        if (!ParametersEqual(existing.Parameters, spec.Parameters))
            throw new VolumeConflictException($"volume '{spec.Name}' already exists with different parameters");
    }

    private static bool ParametersEqual(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public void Delete(string volumeId)
    {
        using var lease = locks.Acquire(volumeId);
        if (index.Find(volumeId) is not { } record)
            return;
        if (record.Publications.Count > 0)
            throw new VolumePreconditionException(
                $"volume {volumeId} is still published at {string.Join(", ", record.Publications.Select(p => p.TargetPath))}; unpublish it first");
        store.Delete(volumeId);
        index.Remove(volumeId);
        LogDeleted(volumeId, record.Name);
    }

    public VolumeRecord Get(string volumeId) =>
        index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);

    /// <summary>A page of volumes in id order; the token is the id of the last volume returned, so deletions between pages do not disturb paging.</summary>
    public (IReadOnlyList<VolumeRecord> Page, string NextToken) List(int maxEntries, string startingToken)
    {
        if (startingToken.Length > 0 && !VolumeId.IsWellFormed(startingToken))
            throw new InvalidPageTokenException(startingToken);
        var (page, more) = index.Page(startingToken.Length > 0 ? startingToken : null, maxEntries > 0 ? maxEntries : int.MaxValue);
        return (page, more ? page[^1].VolumeId : "");
    }

    /// <summary>Free bytes a new volume could use on this node.</summary>
    public long AvailableCapacity() => FileSystemStats.Of(layout.Root).AvailableBytes;

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Created volume {VolumeId} ({VolumeName}, {CapacityBytes} bytes)")]
    private partial void LogCreated(string volumeId, string volumeName, long capacityBytes);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Deleted volume {VolumeId} ({VolumeName})")]
    private partial void LogDeleted(string volumeId, string volumeName);
}
