using System.Text.Json.Serialization;
using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>What the driver knows of one snapshot; persisted as snapshot.json beside the snapshot's copy of the data.</summary>
public sealed record SnapshotRecord
{
    public required string SnapshotId { get; init; }

    public required string Name { get; init; }

    public required string SourceVolumeId { get; init; }

    /// <summary>When the copy was cut (for an image volume: while its filesystem was frozen).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Bytes the copy occupies on the data dir's filesystem (blocks shared by reflink included).</summary>
    public required long SizeBytes { get; init; }

    /// <summary>The source volume's size: a volume restored from the snapshot cannot be smaller.</summary>
    public required long SourceCapacityBytes { get; init; }

    public Backing Backing { get; init; } = Backing.Directory;

    public AccessType AccessType { get; init; } = AccessType.Mount;

    public string FsType { get; init; } = "";

    /// <summary>The volume group snapshot this one was taken in; empty for a snapshot of its own.</summary>
    public string GroupSnapshotId { get; init; } = "";

    [JsonIgnore]
    public string? Damage { get; init; }
}
