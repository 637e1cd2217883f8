using CsiHostPath.Interop;

namespace CsiHostPath.Os;

public sealed partial class LinuxMounter(ILogger<LinuxMounter> logger) : IMounter
{
    // statfs(2)'s ST_NOSUID, ST_NODEV and ST_NOEXEC have the values of MS_NOSUID, MS_NODEV and MS_NOEXEC.
    private const long KeptFromSource = (long)(Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC);

    public void BindMount(SafeFdHandle source, string targetPath, MountFlags flags)
    {
        // Mounting from /proc/self/fd/N binds exactly the directory that was opened without following
        // links, so nothing a tenant renames or links in the meantime can redirect the mount.
        using var target = Libc.OpenAt(null, targetPath, Libc.O_PATH | Libc.O_NOFOLLOW);
        Libc.Mount(source.ProcPath, target.ProcPath, null, Libc.MS_BIND, null);
        ulong extra = ToKernelFlags(flags);
        if (extra == 0)
            return;
        try
        {
            // Per-mount flags only take effect on a bind mount through a second, remounting call, which sets exactly
            // the flags it is given: the source's nosuid, nodev and noexec are added, or a read-only publish would
            // drop them. Opened again now, the path resolves to the root of the new mount.
            ulong kept = (ulong)(Libc.FStatFs(source, targetPath).Flags & KeptFromSource);
            using var mounted = Libc.OpenAt(null, targetPath, Libc.O_PATH | Libc.O_NOFOLLOW);
            Libc.Mount(null, mounted.ProcPath, null, Libc.MS_BIND | Libc.MS_REMOUNT | extra | kept, null);
        }
        catch (Exception e)
        {
            try
            {
                Libc.Umount2(targetPath, Libc.UMOUNT_NOFOLLOW | Libc.MNT_DETACH);
            }
            catch (ErrnoException undo)
            {
                // The caller must see why the mount failed, not why undoing it did.
                LogUndoFailed(targetPath, e.Message, undo.Message);
            }
            throw;
        }
    }

    public void Mount(string device, string targetPath, string fsType, MountFlags flags, string? options = null) =>
        Libc.Mount(device, targetPath, fsType, ToKernelFlags(flags), options);

    public bool Unmount(string targetPath)
    {
        try
        {
            Libc.Umount2(targetPath, Libc.UMOUNT_NOFOLLOW);
            return true;
        }
        catch (ErrnoException e) when (e.Errno is Errno.EINVAL or Errno.ENOENT)
        {
            // EINVAL: not a mount point; ENOENT: the target is gone. Either way nothing is mounted there.
            return false;
        }
    }

    public bool IsMountPoint(string path)
    {
        try
        {
            return Libc.Lstat(path).IsMountRoot;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return false;
        }
    }

    public MountedRoot? MountedAt(string path)
    {
        try
        {
            var status = Libc.Lstat(path);
            return status.IsMountRoot ? new MountedRoot(MountSource.Of(status), status.MountId) : null;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }
    }

    public IReadOnlyList<MountInfo> ListMounts() => MountInfoParser.ReadSelf();

    private static ulong ToKernelFlags(MountFlags flags)
    {
        ulong result = 0;
        if (flags.HasFlag(MountFlags.ReadOnly)) result |= Libc.MS_RDONLY;
        if (flags.HasFlag(MountFlags.NoSuid)) result |= Libc.MS_NOSUID;
        if (flags.HasFlag(MountFlags.NoDev)) result |= Libc.MS_NODEV;
        if (flags.HasFlag(MountFlags.NoExec)) result |= Libc.MS_NOEXEC;
        if (flags.HasFlag(MountFlags.NoAtime)) result |= Libc.MS_NOATIME;
        if (flags.HasFlag(MountFlags.NoDirAtime)) result |= Libc.MS_NODIRATIME;
        if (flags.HasFlag(MountFlags.RelAtime)) result |= Libc.MS_RELATIME;
        return result;
    }

    [LoggerMessage(EventId = 720, Level = LogLevel.Error, Message = "The bind mount at {TargetPath} failed ({Reason}) and could not be taken off again ({UndoReason})")]
    private partial void LogUndoFailed(string targetPath, string reason, string undoReason);
}
