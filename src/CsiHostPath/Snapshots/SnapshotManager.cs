using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>The controller's snapshot rules: take, delete, look up and list snapshots of this node's volumes.</summary>
public sealed partial class SnapshotManager(
    SnapshotStore store,
    SnapshotIndex index,
    GroupSnapshotIndex groups,
    VolumeIndex volumes,
    VolumeLocks locks,
    VolumeContent content,
    CapacityPlanner capacity,
    DataDirLayout layout,
    ILogger<SnapshotManager> logger)
{
    public SnapshotRecord Create(string name, string sourceVolumeId, CancellationToken cancellationToken)
    {
        string snapshotId = SnapshotId.FromName(name);
        using var lease = locks.Acquire(snapshotId);
        if (index.Find(snapshotId) is { } existing)
        {
            if (existing.Damage is not null)
                throw new VolumeConflictException($"snapshot '{name}' exists but is damaged ({existing.Damage}); delete it first");
            if (existing.SourceVolumeId != sourceVolumeId)
                throw new VolumeConflictException($"snapshot '{name}' already exists, of volume {existing.SourceVolumeId}");
            return existing;
        }
        using var sourceLease = locks.Acquire(sourceVolumeId);
        var source = Source(sourceVolumeId);
        SnapshotRecord record;
        using (var reservation = Reserve([source]))
        using (var freezes = content.Freeze([source], cancellationToken))
            record = Take(snapshotId, name, source, "", freezes.Token);
        index.Put(record);
        LogCreated(snapshotId, name, sourceVolumeId, record.SizeBytes);
        return record;
    }

    /// <summary>The volume a snapshot is taken of, which must exist and be readable.</summary>
    internal VolumeRecord Source(string volumeId)
    {
        var source = volumes.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);
        return source.Damage is null ? source : throw new VolumePreconditionException($"volume {volumeId} is damaged: {source.Damage}");
    }

    /// <summary>
    /// Claims the space the copies of <paramref name="sources"/> will write until the returned reservation is disposed,
    /// once they are written; RESOURCE_EXHAUSTED before anything is made when they cannot fit. Check and claim are one
    /// step, so two snapshots racing for the last bytes cannot both start.
    /// </summary>
    internal CapacityPlanner.Reservation Reserve(IReadOnlyList<VolumeRecord> sources)
    {
        long needed = sources.Sum(content.CopyBytes);
        return capacity.ReserveCopy(needed,
            available => $"a snapshot needs {needed} bytes (what the volume holds) and {available} bytes are free on this node");
    }

    /// <summary>Copies <paramref name="source"/> into a new snapshot and commits it; the caller holds the locks and any freeze.</summary>
    internal SnapshotRecord Take(string snapshotId, string name, VolumeRecord source, string groupSnapshotId, CancellationToken cancellationToken) =>
        store.Create(snapshotId, staging =>
        {
            var createdAt = DateTimeOffset.UtcNow;
            long allocated = content.Copy(source.Backing, layout.VolumeDir(source.VolumeId), staging, cancellationToken);
            return new SnapshotRecord
            {
                SnapshotId = snapshotId,
                Name = name,
                SourceVolumeId = source.VolumeId,
                CreatedAt = createdAt,
                SizeBytes = allocated,
                SourceCapacityBytes = source.CapacityBytes,
                Backing = source.Backing,
                AccessType = source.AccessType,
                FsType = source.FsType,
                GroupSnapshotId = groupSnapshotId,
            };
        });

    public void Delete(string snapshotId)
    {
        using var lease = locks.Acquire(snapshotId);
        if (index.Find(snapshotId) is { GroupSnapshotId.Length: > 0 } member && groups.Find(member.GroupSnapshotId) is not null)
            throw new InvalidVolumeArgumentException("snapshot_id",
                $"snapshot {snapshotId} is part of volume group snapshot {member.GroupSnapshotId}; delete the group snapshot instead");
        Remove(snapshotId);
    }

    /// <summary>Removes the snapshot, or finishes removing what a failed delete left; the caller holds its lock.</summary>
    internal void Remove(string snapshotId)
    {
        store.Delete(snapshotId);
        if (index.Find(snapshotId) is { } record)
        {
            index.Remove(snapshotId);
            LogDeleted(snapshotId, record.Name);
        }
    }

    public SnapshotRecord Get(string snapshotId) =>
        index.Find(snapshotId) is { Damage: null } record ? record : throw new SnapshotNotFoundException($"snapshot {snapshotId}");

    /// <summary>A page of snapshots in id order, optionally only those of one volume or the one snapshot asked for; the token is the last id returned.</summary>
    public (IReadOnlyList<SnapshotRecord> Page, string NextToken) List(int maxEntries, string startingToken, string snapshotId, string sourceVolumeId)
    {
        if (startingToken.Length > 0 && !SnapshotId.IsWellFormed(startingToken))
            throw new InvalidPageTokenException(startingToken);
        if (snapshotId.Length > 0)
            return (index.Find(snapshotId) is { Damage: null } one && (sourceVolumeId.Length == 0 || one.SourceVolumeId == sourceVolumeId) ? [one] : [], "");
        var (page, more) = index.Page(
            startingToken.Length > 0 ? startingToken : null,
            maxEntries > 0 ? maxEntries : int.MaxValue,
            r => r.Damage is null && (sourceVolumeId.Length == 0 || r.SourceVolumeId == sourceVolumeId));
        return (page, more ? page[^1].SnapshotId : "");
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Created snapshot {SnapshotId} ({SnapshotName}) of volume {VolumeId}: {SizeBytes} bytes")]
    private partial void LogCreated(string snapshotId, string snapshotName, string volumeId, long sizeBytes);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Deleted snapshot {SnapshotId} ({SnapshotName})")]
    private partial void LogDeleted(string snapshotId, string snapshotName);
}
