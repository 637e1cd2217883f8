using System.Text.Json.Serialization;

namespace CsiHostPath.Volumes;

/// <summary>What the driver knows of one volume; persisted as volume.json beside the volume's data.</summary>
public sealed record VolumeRecord
{
    public required string VolumeId { get; init; }

    public required string Name { get; init; }

    public required long CapacityBytes { get; init; }

    /// <summary>The StorageClass parameters, including external-provisioner's csi.storage.k8s.io/ metadata.</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public IReadOnlyList<Publication> Publications { get; init; } = [];

    /// <summary>Why the record could not be read at start-up; such a volume is reported abnormal and can only be deleted.</summary>
    [JsonIgnore]
    public string? Damage { get; init; }

    public Publication? FindPublication(string targetPath) =>
        Publications.FirstOrDefault(p => p.TargetPath == targetPath);

    public VolumeRecord WithPublication(Publication publication) =>
        this with { Publications = [.. Publications.Where(p => p.TargetPath != publication.TargetPath), publication] };

    public VolumeRecord WithoutPublication(string targetPath) =>
        this with { Publications = [.. Publications.Where(p => p.TargetPath != targetPath)] };
}
