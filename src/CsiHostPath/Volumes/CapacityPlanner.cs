using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>
/// What a new volume can still get on this node: the data dir's free bytes, less what image volumes were
/// promised but have not written yet (their sparse files grow into it), unless overcommit is allowed.
/// </summary>
public sealed class CapacityPlanner(DataDirLayout layout, VolumeIndex index, VolumeBackings backings, DriverOptions options)
{
    public long Available()
    {
        long free = FileSystemStats.Of(layout.Root).AvailableBytes;
        if (options.AllowImageOvercommit)
            return free;
        long promised = 0;
        foreach (var record in index.All())
        {
            if (record.Backing == Backing.Image && record.Damage is null)
                promised += backings.For(record).Unallocated(record);
        }
        return Math.Max(0, free - promised);
    }

    /// <summary>The smallest volume of a kind: a filesystem has a floor below which mkfs refuses.</summary>
    public static long Minimum(Backing backing, string fsType) =>
        backing == Backing.Image && fsType.Length > 0 ? FileSystemTools.MinimumBytes(fsType) : 0;
}
