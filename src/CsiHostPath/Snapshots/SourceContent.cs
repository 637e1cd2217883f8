using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// A resolved content source: its kind of volume, its size, the bytes a copy of it will write (<see cref="CopyBytes"/>),
/// and the live volume itself for a clone.
/// </summary>
public sealed record SourceContent(VolumeSource Source, Backing Backing, AccessType AccessType, string FsType, long CapacityBytes, long CopyBytes, VolumeRecord? Volume);
