using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>A resolved content source: its kind of volume, its size, and the live volume itself for a clone.</summary>
public sealed record SourceContent(VolumeSource Source, Backing Backing, AccessType AccessType, string FsType, long CapacityBytes, VolumeRecord? Volume);
