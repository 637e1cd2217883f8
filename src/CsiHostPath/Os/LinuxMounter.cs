using CsiHostPath.Interop;
using CsiHostPath.Metrics;

namespace CsiHostPath.Os;

public sealed class LinuxMounter : IMounter
{
    public void BindMount(SafeFdHandle source, string targetPath, MountFlags flags) =>
        DriverMeter.Counted(OsOperation.Mount, () => Bind(source, targetPath, flags));

    private static void Bind(SafeFdHandle source, string targetPath, MountFlags flags)
    {
        // The target and the source are used as opened, without following links, so nothing a tenant renames or links
        // in the meantime can redirect the mount.
        using var target = Libc.OpenAt(null, targetPath, Libc.O_PATH | Libc.O_NOFOLLOW);
        if (flags == MountFlags.None)
        {
            Libc.Mount(source.ProcPath, target.ProcPath, null, Libc.MS_BIND, null);
            return;
        }
        // A bind mount remounted read-only afterwards is read-only only in this namespace: propagation to the host and
        // the pod copied it when it was attached, still writable. So the copy gets its flags while it is detached and
        // no other namespace can see it. A clone keeps the source's nosuid, nodev and noexec; the flags are only added.
        // Closing the descriptor of a copy that was never attached takes it away, so a failure leaves nothing behind.
        using var tree = Libc.OpenTreeClone(source, targetPath);
        var (set, clear) = ToMountAttributes(flags);
        Libc.MountSetAttr(tree, set, clear, targetPath);
        Libc.MoveMount(tree, target, targetPath);
    }

    public void Mount(string device, string targetPath, string fsType, MountFlags flags, string? options = null) =>
        DriverMeter.Counted(OsOperation.Mount, () => Libc.Mount(device, targetPath, fsType, ToKernelFlags(flags), options));

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
        catch (ErrnoException)
        {
            DriverMeter.Failed(OsOperation.Unmount);
            throw;
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

    public MountInfo? FindMount(string path)
    {
        Libc.MountStatus? status;
        try
        {
            if (!Libc.TryStatMount(path, out status))
                return FindInTable(path);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }
        catch (ErrnoException)
        {
            // A failed filesystem cannot be asked about itself (a shut-down xfs answers EIO); the table still shows it.
            return FindInTable(path);
        }
        if (status is not { } mount)
            return null;
        return new MountInfo(mount.MountId, mount.ParentId, "", path, mount.MountReadOnly ? "ro" : "rw", mount.FsType, "", mount.SuperOptions);
    }

    private MountInfo? FindInTable(string path) => ListMounts().LastOrDefault(m => m.MountPoint == path);

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

    private static (ulong Set, ulong Clear) ToMountAttributes(MountFlags flags)
    {
        ulong set = 0, clear = 0;
        if (flags.HasFlag(MountFlags.ReadOnly)) set |= Libc.MOUNT_ATTR_RDONLY;
        if (flags.HasFlag(MountFlags.NoSuid)) set |= Libc.MOUNT_ATTR_NOSUID;
        if (flags.HasFlag(MountFlags.NoDev)) set |= Libc.MOUNT_ATTR_NODEV;
        if (flags.HasFlag(MountFlags.NoExec)) set |= Libc.MOUNT_ATTR_NOEXEC;
        if (flags.HasFlag(MountFlags.NoDirAtime)) set |= Libc.MOUNT_ATTR_NODIRATIME;
        // The atime mode is one value, replaced as a whole; noatime wins over relatime, as with mount(2)'s flags.
        if (flags.HasFlag(MountFlags.NoAtime) || flags.HasFlag(MountFlags.RelAtime))
        {
            clear |= Libc.MOUNT_ATTR__ATIME;
            set |= flags.HasFlag(MountFlags.NoAtime) ? Libc.MOUNT_ATTR_NOATIME : Libc.MOUNT_ATTR_RELATIME;
        }
        return (set, clear);
    }
}
