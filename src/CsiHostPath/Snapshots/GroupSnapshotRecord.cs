using System.Text.Json.Serialization;

namespace CsiHostPath.Snapshots;

/// <summary>
/// A volume group snapshot: written after all its members, so a group whose record is missing was never completed
/// (nor acknowledged), and start-up removes its members.
/// </summary>
public sealed record GroupSnapshotRecord
{
    public required string GroupSnapshotId { get; init; }

    public required string Name { get; init; }

    public required IReadOnlyList<string> SourceVolumeIds { get; init; }

    public required IReadOnlyList<string> SnapshotIds { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    [JsonIgnore]
    public string? Damage { get; init; }
}
