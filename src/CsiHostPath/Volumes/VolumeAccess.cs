namespace CsiHostPath.Volumes;

/// <summary>One requested VolumeCapability: how the volume is to be accessed and mounted.</summary>
public sealed record VolumeAccess(AccessType AccessType, AccessMode AccessMode, string FsType, IReadOnlyList<string> MountFlags);
