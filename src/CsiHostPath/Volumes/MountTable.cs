using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>One read of the kernel's mount table, shared by every check in one call.</summary>
public sealed class MountTable(IReadOnlyList<MountInfo> mounts)
{
    // Later lines are mounted over earlier ones at the same point: the last is the one seen there.
    private readonly Dictionary<string, MountInfo> _top = mounts.GroupBy(m => m.MountPoint, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    public bool IsMountPoint(string path) => _top.ContainsKey(path);

    /// <summary>The mount seen at <paramref name="path"/>, or null when nothing is mounted there.</summary>
    public MountInfo? Find(string path) => _top.GetValueOrDefault(path);
}
