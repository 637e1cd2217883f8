using CsiHostPath.Interop;
using CsiHostPath.Os;
using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// Copies what a volume holds (a directory volume's data/ tree, an image volume's image file) from one item directory
/// (a volume's, a snapshot's) into another's staging directory, under the same names. Snapshots, restores and clones
/// are all this one copy.
/// </summary>
public sealed partial class VolumeContent(DataDirLayout layout, IMounter mounter, ILogger<VolumeContent> logger)
{
    // A frozen filesystem blocks every writer in the pod; a copy that takes longer than this gives up and thaws.
    private static readonly TimeSpan MaxFreeze = TimeSpan.FromSeconds(60);

    private readonly Lazy<bool> _reflink = new(() => ProbeReflink(layout.StagingDir));

    /// <summary>Whether the data dir's filesystem shares blocks between copies (FICLONE works), so a copy takes next to no space.</summary>
    public bool SharesBlocks => _reflink.Value;

    /// <summary>Copies the content of <paramref name="sourceItemDir"/> into <paramref name="targetItemDir"/>; the copy's allocated bytes.</summary>
    public long Copy(Backing backing, string sourceItemDir, string targetItemDir, CancellationToken cancellationToken)
    {
        long allocated;
        if (backing == Backing.Directory)
        {
            string target = Path.Combine(targetItemDir, DataDirLayout.DataDirName);
            Directory.CreateDirectory(target);
            var result = DirectoryTree.Copy(Path.Combine(sourceItemDir, DataDirLayout.DataDirName), target, logger, cancellationToken);
            LogCopied(sourceItemDir, targetItemDir, result.Entries, result.AllocatedBytes, result.ReflinkedFiles);
            allocated = result.AllocatedBytes;
        }
        else
        {
            allocated = CopyImage(Path.Combine(sourceItemDir, DataDirLayout.ImageFileName), Path.Combine(targetItemDir, DataDirLayout.ImageFileName), cancellationToken);
        }
        // A snapshot that is acknowledged must survive a power cut: its data reaches the disk before its record is committed.
        using var dir = Libc.OpenAt(null, targetItemDir, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Libc.SyncFs(dir, targetItemDir);
        return allocated;
    }

    /// <summary>
    /// Bytes a copy of the volume will write: what its data occupies now, or nothing where the filesystem shares blocks
    /// (a reflinked copy takes next to no space; one that runs out anyway fails with ENOSPC and leaves nothing behind).
    /// </summary>
    public long CopyBytes(VolumeRecord volume) =>
        SharesBlocks ? 0
        : volume.Backing == Backing.Directory ? DirectoryTree.Usage(layout.DataPath(volume.VolumeId)).Bytes
        : (long)Libc.Lstat(layout.ImagePath(volume.VolumeId)).Blocks * 512;

    /// <summary>Bytes a restore of the snapshot will write: what the snapshot occupies, or nothing where blocks are shared.</summary>
    public long CopyBytes(SnapshotRecord snapshot) => SharesBlocks ? 0 : snapshot.SizeBytes;

    /// <summary>
    /// Freezes the mounted filesystems of the image volumes among <paramref name="volumes"/>, all before the first copy,
    /// so their copies are of one instant; disposing the result thaws them. Copy under the result's Token. Directory and block volumes have nothing to freeze.
    /// </summary>
    public Freezes Freeze(IEnumerable<VolumeRecord> volumes, CancellationToken cancellationToken)
    {
        var freezes = new Freezes(cancellationToken, MaxFreeze);
        try
        {
            foreach (var volume in volumes)
            {
                string mount = layout.MountPath(volume.VolumeId);
                if (volume.Backing != Backing.Image || volume.AccessType != AccessType.Mount || !mounter.IsMountPoint(mount))
                    continue;
                freezes.Add(FileSystemFreeze.Freeze(mount));
                LogFrozen(volume.VolumeId);
            }
        }
        catch
        {
            freezes.Dispose();
            throw;
        }
        return freezes;
    }

    /// <summary>
    /// Start-up: a driver killed mid-snapshot left the volume's filesystem frozen, and every writer in the pod blocked.
    /// Any mount of the filesystem reaches it: the driver's own, or, when that died with the driver's mount namespace
    /// (a container restart), a pod's target, which holds the same frozen filesystem.
    /// </summary>
    public void ThawIfFrozen(VolumeRecord volume)
    {
        if (volume.Backing != Backing.Image || volume.AccessType != AccessType.Mount)
            return;
        foreach (var mount in volume.Publications.Select(p => p.TargetPath).Prepend(layout.MountPath(volume.VolumeId)))
        {
            if (mounter.IsMountPoint(mount) && FileSystemFreeze.ThawIfFrozen(mount))
                LogThawedAtStart(volume.VolumeId, mount);
        }
    }

    private static long CopyImage(string source, string target, CancellationToken cancellationToken)
    {
        using var input = Libc.OpenAt(null, source, Libc.O_RDONLY | Libc.O_NOFOLLOW);
        int errno = Libc.TryCreateAt(input, System.Text.Encoding.UTF8.GetBytes(target + "\0"), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL, 0x180, out var created);
        if (errno != 0)
            throw new ErrnoException(errno, "openat", target);
        using var output = created!;
        FileData.Copy(input, output, (long)Libc.FStatx(input, source).Size, source, cancellationToken);
        return (long)Libc.FStatx(output, target).Blocks * 512;
    }

    private static bool ProbeReflink(string dir)
    {
        string a = Path.Combine(dir, $"reflink-probe-{Environment.ProcessId}-a"), b = a[..^1] + "b";
        try
        {
            File.WriteAllBytes(a, new byte[4096]);
            using var source = Libc.OpenAt(null, a, Libc.O_RDONLY);
            int errno = Libc.TryCreateAt(source, System.Text.Encoding.UTF8.GetBytes(b + "\0"), Libc.O_WRONLY | Libc.O_CREAT, 0x180, out var created);
            if (errno != 0)
                return false;
            using (created)
                return Libc.TryClone(created!, source) == 0;
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Copied {Source} to {Target}: {Entries} entries, {AllocatedBytes} bytes allocated, {ReflinkedFiles} files sharing blocks")]
    private partial void LogCopied(string source, string target, long entries, long allocatedBytes, long reflinkedFiles);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Froze the filesystem of volume {VolumeId}")]
    private partial void LogFrozen(string volumeId);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Thawed the filesystem of volume {VolumeId} at {MountPath}, left frozen by a snapshot the driver did not finish")]
    private partial void LogThawedAtStart(string volumeId, string mountPath);
}
