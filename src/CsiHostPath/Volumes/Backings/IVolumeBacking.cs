using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes.Backings;

/// <summary>How one kind of backing stores, exposes, grows and measures a volume.</summary>
public interface IVolumeBacking
{
    Backing Kind { get; }

    /// <summary>Fills the volume's staging directory before it is committed; a failure leaves nothing behind.</summary>
    void Provision(string stagingDir, VolumeRecord record);

    /// <summary>After the commit and at every start-up: makes the volume ready to publish. Idempotent.</summary>
    void Activate(VolumeRecord record);

    /// <summary>At start-up: <see cref="Activate"/> for every volume of this backing, looking up what they share once. A volume that fails is reported abnormal; the others carry on.</summary>
    void Recover(IReadOnlyList<VolumeRecord> records);

    /// <summary>Before the volume's directory is removed or archived: releases what <see cref="Activate"/> took. Idempotent.</summary>
    void Deactivate(VolumeRecord record);

    /// <summary>
    /// Opens what NodePublishVolume binds onto the target for <paramref name="publication"/>: a directory, or a block
    /// device node. A read-only bind of a device node does not stop writes to the device, so for a read-only
    /// publication a block device is made read-only itself (and writable again for a writable one); a filesystem of the
    /// volume's own gets the publication's <see cref="FileSystemOptions"/>. <paramref name="record"/> is the volume as
    /// it was before this publication.
    /// </summary>
    SafeFdHandle OpenPublishSource(VolumeRecord record, Publication publication);

    /// <summary>What a publication of this volume shows at its target, without activating anything; null while there is nothing to publish.</summary>
    MountSource? PublishedSource(VolumeRecord record);

    /// <summary>Why the volume cannot grow now, asked before its record changes; null when it can.</summary>
    string? GrowthRefusal(VolumeRecord record);

    /// <summary>
    /// Grows the volume's storage to <paramref name="newSize"/>, which its record already says; true if the filesystem
    /// must then be grown on the node. Idempotent, so a retry finishes a growth cut short.
    /// </summary>
    bool Grow(VolumeRecord record, long newSize);

    /// <summary>Grows the filesystem to fill the grown storage (NodeExpandVolume).</summary>
    void GrowFileSystem(VolumeRecord record);

    /// <summary>What is wrong with the volume's storage, or null.</summary>
    string? Problem(VolumeRecord record, MountTable mounts);

    /// <summary>
    /// Bytes and inodes as the pod sees them, measured at the volume's own storage, never through a pod's target:
    /// a walk holding descriptors inside a target would make its unmount fail with EBUSY.
    /// </summary>
    VolumeUsage Usage(VolumeRecord record);
}
