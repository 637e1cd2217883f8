using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// Volume group snapshots: every member is cut at one instant (each image volume's filesystem frozen before the first
/// copy and thawed after the last), and the group's record is committed only after all its members, so a crash leaves
/// either the whole group or members that start-up removes.
/// </summary>
public sealed partial class GroupSnapshotManager(
    GroupSnapshotStore store,
    GroupSnapshotIndex index,
    SnapshotIndex snapshots,
    SnapshotManager snapshotManager,
    VolumeLocks locks,
    VolumeContent content,
    ILogger<GroupSnapshotManager> logger)
{
    public (GroupSnapshotRecord Group, IReadOnlyList<SnapshotRecord> Members) Create(string name, IReadOnlyList<string> sourceVolumeIds, CancellationToken cancellationToken)
    {
        string groupId = SnapshotId.FromGroupName(name);
        using var lease = locks.Acquire(groupId);
        var wanted = sourceVolumeIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (index.Find(groupId) is { } existing)
        {
            if (existing.Damage is not null)
                throw new VolumeConflictException($"group snapshot '{name}' exists but is damaged ({existing.Damage}); delete it first");
            if (!existing.SourceVolumeIds.SequenceEqual(wanted))
                throw new VolumeConflictException($"group snapshot '{name}' already exists, of volumes {string.Join(", ", existing.SourceVolumeIds)}");
            return (existing, Members(existing));
        }
        var leases = new List<VolumeLocks.Lease>();
        try
        {
            foreach (var volumeId in wanted)
                leases.Add(locks.Acquire(volumeId));
            var sources = wanted.Select(snapshotManager.Source).ToList();
            // Members a crashed or failed earlier attempt left are not of this instant: they go, and all are cut anew.
            foreach (var volumeId in wanted)
                snapshotManager.Remove(SnapshotId.ForMember(groupId, volumeId));
            var members = new List<SnapshotRecord>();
            try
            {
                using (var reservation = snapshotManager.Reserve(sources))
                using (var freezes = content.Freeze(sources, cancellationToken))
                {
                    foreach (var source in sources)
                    {
                        string memberId = SnapshotId.ForMember(groupId, source.VolumeId);
                        members.Add(snapshotManager.Take(memberId, $"{name}/{source.VolumeId}", source, groupId, freezes.Token));
                    }
                }
                var group = store.Create(groupId, _ => new GroupSnapshotRecord
                {
                    GroupSnapshotId = groupId,
                    Name = name,
                    SourceVolumeIds = wanted,
                    SnapshotIds = [.. members.Select(m => m.SnapshotId)],
                    CreatedAt = members.Count > 0 ? members.Min(m => m.CreatedAt) : DateTimeOffset.UtcNow,
                });
                foreach (var member in members)
                    snapshots.Put(member);
                index.Put(group);
                LogCreated(groupId, name, members.Count);
                return (group, members);
            }
            catch
            {
                foreach (var member in members)
                    snapshotManager.Remove(member.SnapshotId);
                throw;
            }
        }
        finally
        {
            foreach (var held in leases)
                held.Dispose();
        }
    }

    public void Delete(string groupId, IReadOnlyCollection<string> snapshotIds)
    {
        using var lease = locks.Acquire(groupId);
        if (index.Find(groupId) is not { } group)
        {
            // Gone already, or never completed: members a failed delete left behind still go.
            foreach (var snapshotId in snapshotIds)
                snapshotManager.Remove(snapshotId);
            return;
        }
        if (snapshotIds.Count > 0 && !snapshotIds.ToHashSet().SetEquals(group.SnapshotIds))
            throw new InvalidVolumeArgumentException("snapshot_ids", $"do not match the members of group snapshot {groupId}: {string.Join(", ", group.SnapshotIds)}");
        // The group goes first: once its record is gone, any member still there is an orphan that start-up removes.
        store.Delete(groupId);
        index.Remove(groupId);
        foreach (var snapshotId in group.SnapshotIds)
            snapshotManager.Remove(snapshotId);
        LogDeleted(groupId, group.Name);
    }

    public (GroupSnapshotRecord Group, IReadOnlyList<SnapshotRecord> Members) Get(string groupId, IReadOnlyCollection<string> snapshotIds)
    {
        var group = index.Find(groupId) is { Damage: null } found ? found : throw new SnapshotNotFoundException($"group snapshot {groupId}");
        if (snapshotIds.Count > 0 && !snapshotIds.ToHashSet().SetEquals(group.SnapshotIds))
            throw new InvalidVolumeArgumentException("snapshot_ids", $"do not match the members of group snapshot {groupId}: {string.Join(", ", group.SnapshotIds)}");
        return (group, Members(group));
    }

    private List<SnapshotRecord> Members(GroupSnapshotRecord group) =>
        [.. group.SnapshotIds.Select(id => snapshots.Find(id)).OfType<SnapshotRecord>()];

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "Created group snapshot {GroupSnapshotId} ({GroupSnapshotName}) of {MemberCount} volumes")]
    private partial void LogCreated(string groupSnapshotId, string groupSnapshotName, int memberCount);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "Deleted group snapshot {GroupSnapshotId} ({GroupSnapshotName})")]
    private partial void LogDeleted(string groupSnapshotId, string groupSnapshotName);
}
