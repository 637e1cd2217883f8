using CsiHostPath.Interop;

namespace CsiHostPath.Os;

public sealed class LinuxMounter : IMounter
{
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
            // Per-mount flags only take effect on a bind mount through a second, remounting call;
            // opened again now, the path resolves to the root of the new mount.
            using var mounted = Libc.OpenAt(null, targetPath, Libc.O_PATH | Libc.O_NOFOLLOW);
            Libc.Mount(null, mounted.ProcPath, null, Libc.MS_BIND | Libc.MS_REMOUNT | extra, null);
        }
        catch
        {
            Libc.Umount2(targetPath, Libc.UMOUNT_NOFOLLOW | Libc.MNT_DETACH);
            throw;
        }
    }

    public void Mount(string device, string targetPath, string fsType, MountFlags flags) =>
        Libc.Mount(device, targetPath, fsType, ToKernelFlags(flags), null);

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
}
