namespace CsiHostPath.Volumes;

public enum AccessType
{
    Mount,
    Block,
}
