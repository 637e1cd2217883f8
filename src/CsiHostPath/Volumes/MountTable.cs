using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>
/// Where the checks of one call find what is mounted: one read of the whole table for a call that checks many volumes,
/// or the kernel asked about each path for a call that checks one, so its cost does not grow with the node's mounts.
/// </summary>
public sealed class MountTable
{
    private readonly Func<string, MountInfo?> _find;

    private MountTable(Func<string, MountInfo?> find) => _find = find;

    public static MountTable Of(IReadOnlyList<MountInfo> mounts)
    {
        // Later lines are mounted over earlier ones at the same point: the last is the one seen there.
        var top = mounts.GroupBy(m => m.MountPoint, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        return new MountTable(top.GetValueOrDefault);
    }

    public static MountTable PerPath(IMounter mounter) => new(mounter.FindMount);

    /// <summary>The mount seen at <paramref name="path"/>, or null when nothing is mounted there.</summary>
    public MountInfo? Find(string path) => _find(path);
}
