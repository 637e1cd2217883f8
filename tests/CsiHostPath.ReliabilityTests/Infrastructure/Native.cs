using System.Runtime.InteropServices;
using System.Text;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// The *at() calls a tenant process uses inside its volume: relative to a directory descriptor it holds, so
/// trees deeper than PATH_MAX can be built and a directory keeps being reachable after it is renamed.
/// Raw byte names, because a tenant's names need not be UTF-8.
/// </summary>
internal static unsafe partial class Native
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int AT_REMOVEDIR = 0x200;
    public const uint S_IFIFO = 0x1000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFBLK = 0x6000;
    public const int EEXIST = 17;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAtRaw(int dirFd, byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxRaw(int dirFd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true)]
    private static partial int MkDirAtRaw(int dirFd, byte* path, int mode);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true)]
    private static partial int SymlinkAtRaw(byte* target, int dirFd, byte* path);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true)]
    private static partial int LinkAtRaw(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath, int flags);

    [LibraryImport("libc", EntryPoint = "mknodat", SetLastError = true)]
    private static partial int MkNodAtRaw(int dirFd, byte* path, uint mode, ulong device);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true)]
    private static partial int RenameAtRaw(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAtRaw(int dirFd, byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlRaw(int fd, ulong request, nint argument);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fsType, ulong flags, string? data);

    public static byte[] Z(string name) => Encoding.UTF8.GetBytes(name + "\0");

    public static int OpenDirectory(string path) => Check(OpenAt(-100, Z(path), O_RDONLY | O_DIRECTORY), "openat", path);

    public static int OpenAt(int dirFd, byte[] nameZ, int flags, int mode = 0)
    {
        fixed (byte* p = nameZ)
            return OpenAtRaw(dirFd, p, flags | O_CLOEXEC, mode);
    }

    /// <summary>The link count of the file <paramref name="fd"/> (a directory's: 2 plus its subdirectories), or -1 if statx fails.</summary>
    public static long LinkCount(int fd)
    {
        const int AT_EMPTY_PATH = 0x1000;
        const uint STATX_NLINK = 0x4;
        byte* status = stackalloc byte[256];
        byte empty = 0;
        // struct statx: stx_nlink is the u32 at offset 16, on every architecture.
        return StatxRaw(fd, &empty, AT_EMPTY_PATH, STATX_NLINK, status) == 0 ? *(uint*)(status + 16) : -1;
    }

    public static int MkDirAt(int dirFd, byte[] nameZ, int mode = 0b111_101_101)
    {
        fixed (byte* p = nameZ)
            return MkDirAtRaw(dirFd, p, mode);
    }

    public static int SymlinkAt(string target, int dirFd, byte[] nameZ)
    {
        fixed (byte* t = Z(target))
        fixed (byte* p = nameZ)
            return SymlinkAtRaw(t, dirFd, p);
    }

    public static int LinkAt(int oldDirFd, byte[] oldNameZ, int newDirFd, byte[] newNameZ)
    {
        fixed (byte* o = oldNameZ)
        fixed (byte* n = newNameZ)
            return LinkAtRaw(oldDirFd, o, newDirFd, n, 0);
    }

    public static int MkNodAt(int dirFd, byte[] nameZ, uint mode, ulong device)
    {
        fixed (byte* p = nameZ)
            return MkNodAtRaw(dirFd, p, mode, device);
    }

    public static int RenameAt(int dirFd, byte[] oldNameZ, byte[] newNameZ)
    {
        fixed (byte* o = oldNameZ)
        fixed (byte* n = newNameZ)
            return RenameAtRaw(dirFd, o, dirFd, n);
    }

    public static int UnlinkAt(int dirFd, byte[] nameZ, int flags)
    {
        fixed (byte* p = nameZ)
            return UnlinkAtRaw(dirFd, p, flags);
    }

    public const int SIGCONT = 18;
    private const ulong FITHAW = 0xC0045878;
    private const int EINVAL = 22;

    /// <summary>FITHAW on the filesystem mounted at <paramref name="mountPoint"/>: true if it was frozen (and now is not), false if it was not.</summary>
    public static bool Thaw(string mountPoint)
    {
        int fd = OpenDirectory(mountPoint);
        try
        {
            if (IoctlRaw(fd, FITHAW, 0) == 0)
                return true;
            int errno = Marshal.GetLastPInvokeError();
            return errno == EINVAL ? false : throw new IOException($"FITHAW({mountPoint}) failed: errno {errno}");
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>Linux makedev.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12) | ((ulong)(major & ~0xfffu) << 32);

    public static int Check(int result, string call, string what) =>
        result >= 0 ? result : throw new IOException($"{call}({what}) failed: errno {Marshal.GetLastPInvokeError()}");
}
