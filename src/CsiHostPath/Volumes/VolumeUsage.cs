namespace CsiHostPath.Volumes;

/// <summary>NodeGetVolumeStats' figures for one volume.</summary>
public readonly record struct VolumeUsage(
    long TotalBytes,
    long UsedBytes,
    long AvailableBytes,
    long TotalInodes,
    long UsedInodes,
    long AvailableInodes);
