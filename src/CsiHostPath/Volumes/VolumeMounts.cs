using CsiHostPath.Interop;
using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>
/// Answers "is THIS volume mounted here", never only "is something mounted here": the topmost mount at a path
/// must show the volume's own storage (device and inode, or the block device's number). Decided by statx of the
/// path, so a symlinked kubelet dir, a new mount namespace or another volume stacked on the target cannot fool it.
/// </summary>
public sealed class VolumeMounts(VolumeBackings backings, IMounter mounter)
{
    /// <summary>What a publication of <paramref name="record"/> shows; null while it has nothing to publish (an image not mounted).</summary>
    public MountSource? SourceOf(VolumeRecord record) => backings.For(record).PublishedSource(record);

    public bool Shows(MountSource? source, string path)
    {
        if (source is not { } own)
            return false;
        try
        {
            return mounter.MountedAt(path) is { } mounted && mounted.Source == own;
        }
        catch (ErrnoException e) when (e.Errno == Errno.EIO && own.IsFailedFileSystem)
        {
            // The path answers as a failed filesystem does, and this volume's has failed: taken for this volume's.
            return true;
        }
    }

    /// <summary>The first recorded publication whose target does not show the volume, or null when all do.</summary>
    public Publication? FirstLost(VolumeRecord record)
    {
        if (record.Publications.Count == 0)
            return null;
        var source = SourceOf(record);
        return record.Publications.FirstOrDefault(p => !Shows(source, p.TargetPath));
    }
}
