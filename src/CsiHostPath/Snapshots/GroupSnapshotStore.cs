using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>One directory per volume group snapshot under groups/, holding only its record.</summary>
public sealed class GroupSnapshotStore(DataDirLayout layout, ILogger<GroupSnapshotStore> logger)
    : RecordStore<GroupSnapshotRecord>(layout, DataDirLayout.GroupsDirName, DataDirLayout.GroupRecordFileName, SnapshotJsonContext.Default.GroupSnapshotRecord, logger)
{
    protected override string IdOf(GroupSnapshotRecord record) => record.GroupSnapshotId;

    protected override GroupSnapshotRecord Damaged(string id, string damage) => new()
    {
        GroupSnapshotId = id,
        Name = "",
        SourceVolumeIds = [],
        SnapshotIds = [],
        CreatedAt = DateTimeOffset.MinValue,
        Damage = damage,
    };
}
