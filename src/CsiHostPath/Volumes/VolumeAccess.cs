namespace CsiHostPath.Volumes;

/// <summary>One requested VolumeCapability: how the volume is to be accessed and mounted.</summary>
public sealed record VolumeAccess(AccessType AccessType, AccessMode AccessMode, string FsType, IReadOnlyList<string> MountFlags)
{
    public bool Equals(VolumeAccess? other) =>
        other is not null
        && AccessType == other.AccessType
        && AccessMode == other.AccessMode
        && FsType == other.FsType
        && MountFlags.SequenceEqual(other.MountFlags);

    public override int GetHashCode() => HashCode.Combine(AccessType, AccessMode, FsType, MountFlags.Count);
}
