using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int AT_EMPTY_PATH = 0x1000;
    private const int AtNoFollow = 0x100;
    // STATX_BASIC_STATS (type, mode, nlink, uid, gid, times, ino, size, blocks: a copy keeps them all) | STATX_MNT_ID.
    private const uint StatxWanted = 0x7ff | 0x1000;
    internal const ulong STATX_ATTR_MOUNT_ROOT = 0x2000;
    internal const uint S_IFMT = 0xF000;
    internal const uint S_IFDIR = 0x4000;
    internal const uint S_IFREG = 0x8000;
    internal const uint S_IFLNK = 0xA000;
    internal const uint S_IFSOCK = 0xC000;

    /// <summary>The fields of struct statx (linux/stat.h) a tree walk and a mount check need; the struct is 256 bytes on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct FileStatus
    {
        [FieldOffset(0x00)] internal uint Mask;
        [FieldOffset(0x08)] internal ulong Attributes;
        [FieldOffset(0x10)] internal uint LinkCount;
        [FieldOffset(0x14)] internal uint Uid;
        [FieldOffset(0x18)] internal uint Gid;
        [FieldOffset(0x1c)] internal ushort Mode;
        [FieldOffset(0x20)] internal ulong Inode;
        [FieldOffset(0x28)] internal ulong Size;
        [FieldOffset(0x30)] internal ulong Blocks;
        [FieldOffset(0x38)] internal ulong AttributesMask;
        [FieldOffset(0x40)] internal long AccessedSeconds;
        [FieldOffset(0x48)] internal uint AccessedNanoseconds;
        [FieldOffset(0x70)] internal long ModifiedSeconds;
        [FieldOffset(0x78)] internal uint ModifiedNanoseconds;
        [FieldOffset(0x80)] internal uint RdevMajor;
        [FieldOffset(0x84)] internal uint RdevMinor;
        [FieldOffset(0x88)] internal uint DevMajor;
        [FieldOffset(0x8c)] internal uint DevMinor;
        [FieldOffset(0x90)] internal ulong MountId;

        internal readonly bool IsDirectory => (Mode & S_IFMT) == S_IFDIR;

        internal readonly uint FileType => Mode & S_IFMT;

        internal readonly uint Permissions => Mode & 0xFFFu;

        internal readonly bool IsBlockDevice => (Mode & S_IFMT) == S_IFBLK;

        internal readonly bool IsMountRoot => (AttributesMask & Attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    }

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int StatxBytesRaw(SafeFdHandle dirFd, byte* path, int flags, uint mask, out FileStatus buffer);

    /// <summary>statx(2) of a raw name in <paramref name="dir"/>, never following a final symlink; 0 or the errno.</summary>
    internal static int TryStatxAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, out FileStatus status) =>
        TryStatx(dir, nameZ, AtNoFollow, out status);

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxPathRaw(int dirFd, string path, int flags, uint mask, out FileStatus buffer);

    /// <summary>statx(2) of a path, never following a final symlink.</summary>
    internal static FileStatus Lstat(string path) => Lstat(path, StatxWanted);

    /// <summary>As <see cref="Lstat(string)"/>, asking for the fields of <paramref name="mask"/>.</summary>
    private static FileStatus Lstat(string path, uint mask)
    {
        int result;
        FileStatus status;
        do
        {
            result = StatxPathRaw(AT_FDCWD, path, AtNoFollow, mask, out status);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        return result < 0 ? throw ErrnoException.FromLastError("statx", path) : status;
    }

    /// <summary>statx(2) of an open descriptor itself.</summary>
    internal static FileStatus FStatx(SafeFdHandle fd, string path)
    {
        int errno = TryStatx(fd, "\0"u8, AT_EMPTY_PATH | AtNoFollow, out var status);
        return errno == 0 ? status : throw new ErrnoException(errno, "statx", path);
    }

    private static unsafe int TryStatx(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, int flags, out FileStatus status)
    {
        int result, errno;
        fixed (byte* name = nameZ)
        {
            do
            {
                result = StatxBytesRaw(dir, name, flags, StatxWanted, out status);
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (errno == Errno.EINTR);
        }
        return errno;
    }
}
