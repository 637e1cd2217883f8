namespace CsiHostPath.Os;

/// <summary>What a tree takes on its filesystem: allocated bytes and inodes.</summary>
public readonly record struct DiskUsage(long Bytes, long Inodes);
