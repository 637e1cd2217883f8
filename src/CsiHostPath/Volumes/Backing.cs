namespace CsiHostPath.Volumes;

/// <summary>What holds a volume's data (StorageClass parameter "backing").</summary>
public enum Backing
{
    /// <summary>A plain directory: no overhead, the size is recorded and reported but not enforced.</summary>
    Directory,

    /// <summary>A sparse image file of exactly the size, on a loop device: the size is enforced by the filesystem.</summary>
    Image,
}
