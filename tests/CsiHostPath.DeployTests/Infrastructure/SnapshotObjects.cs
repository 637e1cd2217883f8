using k8s.Models;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>
/// The snapshot CRDs' objects that deploy/ uses (external-snapshotter v8.6.0's client/config/crd): a class names the
/// driver and what deleting a snapshot does; a VolumeSnapshot names its class and source PVC.
/// </summary>
/// <summary>A VolumeSnapshotClass or VolumeGroupSnapshotClass: the same fields in two API groups.</summary>
public abstract class SnapshotClassObject : k8s.IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();

    public string Driver { get; set; } = "";

    public string DeletionPolicy { get; set; } = "";

    public Dictionary<string, string>? Parameters { get; set; }
}

public sealed class VolumeSnapshotClass : SnapshotClassObject
{
    public const string ApiVersionKind = "snapshot.storage.k8s.io/v1/VolumeSnapshotClass";
}

public sealed class VolumeGroupSnapshotClass : SnapshotClassObject
{
    public const string ApiVersionKind = "groupsnapshot.storage.k8s.io/v1beta2/VolumeGroupSnapshotClass";
}

public sealed class VolumeSnapshot : k8s.IKubernetesObject<V1ObjectMeta>
{
    public const string ApiVersionKind = "snapshot.storage.k8s.io/v1/VolumeSnapshot";

    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();

    public VolumeSnapshotSpec Spec { get; set; } = new();
}

public sealed class VolumeSnapshotSpec
{
    public string? VolumeSnapshotClassName { get; set; }

    public VolumeSnapshotSource Source { get; set; } = new();
}

public sealed class VolumeSnapshotSource
{
    public string? PersistentVolumeClaimName { get; set; }
}
