using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>One read of the kernel's mount table, shared by every check in one call.</summary>
public sealed class MountTable(IReadOnlyList<MountInfo> mounts)
{
    private readonly HashSet<string> _mountPoints = mounts.Select(m => m.MountPoint).ToHashSet(StringComparer.Ordinal);

    public bool IsMountPoint(string path) => _mountPoints.Contains(path);
}
