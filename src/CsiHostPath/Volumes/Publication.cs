namespace CsiHostPath.Volumes;

/// <summary>A NodePublishVolume that was (or is being) carried out: the record is written before the mount.</summary>
public sealed record Publication(string TargetPath, bool ReadOnly, AccessMode AccessMode, IReadOnlyList<string> MountFlags)
{
    public bool Matches(bool readOnly, VolumeAccess access) =>
        ReadOnly == readOnly && AccessMode == access.AccessMode && MountFlags.SequenceEqual(access.MountFlags);
}
