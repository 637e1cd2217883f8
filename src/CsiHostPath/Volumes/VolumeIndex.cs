namespace CsiHostPath.Volumes;

/// <summary>
/// Every volume on this node, by id. Ephemeral inline volumes are found by id but not paged: ListVolumes is the
/// controller's view, and they are not its.
/// </summary>
public sealed class VolumeIndex() : RecordIndex<VolumeRecord>(r => r.VolumeId, r => !r.IsEphemeral);
