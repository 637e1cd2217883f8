using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>Every volume group snapshot on this node, by id.</summary>
public sealed class GroupSnapshotIndex() : RecordIndex<GroupSnapshotRecord>(r => r.GroupSnapshotId);
