using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

/// <summary>
/// The mount API of Linux 5.12 and later: a mount is cloned detached (open_tree), given its flags while no other
/// namespace can see it (mount_setattr), then attached (move_mount), so every copy propagation makes carries them.
/// </summary>
internal static partial class Libc
{
    internal const ulong MOUNT_ATTR_RDONLY = 0x1;
    internal const ulong MOUNT_ATTR_NOSUID = 0x2;
    internal const ulong MOUNT_ATTR_NODEV = 0x4;
    internal const ulong MOUNT_ATTR_NOEXEC = 0x8;
    internal const ulong MOUNT_ATTR__ATIME = 0x70;
    internal const ulong MOUNT_ATTR_RELATIME = 0x0;
    internal const ulong MOUNT_ATTR_NOATIME = 0x10;
    internal const ulong MOUNT_ATTR_NODIRATIME = 0x80;

    private const uint OPEN_TREE_CLONE = 0x1;
    private const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    private const uint MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    // Syscalls added since Linux 5.1 share one number on every architecture; called through syscall(2) like openat2.
    private const long SysOpenTree = 428;
    private const long SysMoveMount = 429;
    private const long SysMountSetAttr = 442;

    /// <summary>struct mount_attr (linux/mount.h), MOUNT_ATTR_SIZE_VER0.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        internal ulong AttrSet;
        internal ulong AttrClr;
        internal ulong Propagation;
        internal ulong UsernsFd;
    }

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallOpenTree(long number, SafeFdHandle dirFd, byte* path, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallMountSetAttr(long number, SafeFdHandle dirFd, byte* path, uint flags, MountAttr* attr, nuint size);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallMoveMount(long number, SafeFdHandle fromDirFd, byte* fromPath, SafeFdHandle toDirFd, byte* toPath, uint flags);

    /// <summary>open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at <paramref name="source"/> (not its submounts), which goes away when the descriptor is closed unattached.</summary>
    internal static unsafe SafeFdHandle OpenTreeClone(SafeFdHandle source, string path)
    {
        byte empty = 0;
        long fd;
        do
        {
            fd = SyscallOpenTree(SysOpenTree, source, &empty, OPEN_TREE_CLONE | (uint)AT_EMPTY_PATH | (uint)O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        return fd < 0 ? throw ErrnoException.FromLastError("open_tree", path) : new SafeFdHandle((int)fd);
    }

    /// <summary>mount_setattr(2) on the mount <paramref name="mount"/> refers to: sets <paramref name="set"/>, clears <paramref name="clear"/>.</summary>
    internal static unsafe void MountSetAttr(SafeFdHandle mount, ulong set, ulong clear, string path)
    {
        byte empty = 0;
        byte* emptyPath = &empty;
        var attr = new MountAttr { AttrSet = set, AttrClr = clear };
        var attrAt = &attr;
        int errno = Retry(() => SyscallMountSetAttr(SysMountSetAttr, mount, emptyPath, (uint)AT_EMPTY_PATH, attrAt, (nuint)sizeof(MountAttr)));
        if (errno != 0)
            throw new ErrnoException(errno, "mount_setattr", path);
    }

    /// <summary>move_mount(2): attaches the detached mount <paramref name="mount"/> on the file or directory <paramref name="target"/> refers to.</summary>
    internal static unsafe void MoveMount(SafeFdHandle mount, SafeFdHandle target, string path)
    {
        byte empty = 0;
        byte* emptyPath = &empty;
        int errno = Retry(() => SyscallMoveMount(SysMoveMount, mount, emptyPath, target, emptyPath, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
        if (errno != 0)
            throw new ErrnoException(errno, "move_mount", path);
    }
}
