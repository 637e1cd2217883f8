namespace CsiHostPath.Volumes;

/// <summary>What a new volume is filled from: a snapshot or another volume (CSI VolumeContentSource).</summary>
public sealed record VolumeSource(VolumeSourceKind Kind, string Id);
