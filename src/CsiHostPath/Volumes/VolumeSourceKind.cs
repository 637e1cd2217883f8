namespace CsiHostPath.Volumes;

public enum VolumeSourceKind
{
    Snapshot,
    Volume,
}
