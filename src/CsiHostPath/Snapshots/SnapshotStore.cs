using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>One directory per snapshot under snapshots/, made and removed as volumes are (<see cref="RecordStore{TRecord}"/>).</summary>
public sealed class SnapshotStore(DataDirLayout layout, ILogger<SnapshotStore> logger)
    : RecordStore<SnapshotRecord>(layout, DataDirLayout.SnapshotsDirName, DataDirLayout.SnapshotRecordFileName, SnapshotJsonContext.Default.SnapshotRecord, logger)
{
    protected override string IdOf(SnapshotRecord record) => record.SnapshotId;

    protected override SnapshotRecord Damaged(string id, string damage) => new()
    {
        SnapshotId = id,
        Name = "",
        SourceVolumeId = "",
        CreatedAt = DateTimeOffset.MinValue,
        SizeBytes = 0,
        SourceCapacityBytes = 0,
        Damage = damage,
    };
}
