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

    public Backing Backing { get; init; } = Backing.Directory;

    /// <summary>Block volumes are published as a device node; only image volumes can be.</summary>
    public AccessType AccessType { get; init; } = AccessType.Mount;

    /// <summary>The image's filesystem; empty for directory and block volumes.</summary>
    public string FsType { get; init; } = "";

    public OnDelete OnDelete { get; init; } = OnDelete.Delete;

    /// <summary>The quota project limiting a directory volume (StorageClass quota: "true"); 0 for none.</summary>
    public uint ProjectId { get; init; }

    public IReadOnlyList<Publication> Publications { get; init; } = [];

    /// <summary>
    /// For a CSI ephemeral inline volume, the target kubelet first published it at: its pod directory tells the sweep
    /// whether the pod is gone, even after a reboot has dropped the publication. Null for a persistent volume.
    /// </summary>
    public string? EphemeralTarget { get; init; }

    [JsonIgnore]
    public bool IsEphemeral => EphemeralTarget is not null;

    /// <summary>The snapshot or volume the volume was filled from when it was created; null for an empty one.</summary>
    public VolumeSource? Source { get; init; }

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
