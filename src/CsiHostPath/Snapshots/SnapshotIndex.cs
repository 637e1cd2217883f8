using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>Every snapshot on this node, by id; one taken as part of a group appears once its group is complete.</summary>
public sealed class SnapshotIndex() : RecordIndex<SnapshotRecord>(r => r.SnapshotId);
