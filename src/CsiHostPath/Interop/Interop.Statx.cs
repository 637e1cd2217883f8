using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    internal struct StatxBuffer
    {
        internal uint Mask;
        internal uint BlockSize;
        internal ulong Attributes;
        internal uint LinkCount;
        internal uint Uid;
        internal uint Gid;
        internal ushort Mode;
        internal ushort Spare0;
        internal ulong Inode;
        internal ulong Size;
        internal ulong Blocks;
        internal ulong AttributesMask;
    }

    internal const ulong STATX_ATTR_MOUNT_ROOT_FLAG = 0x2000;

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxRaw(int dirFd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>statx(2) of a path, not following a final symlink.</summary>
    internal static StatxBuffer Lstat(string path)
    {
        int result;
        StatxBuffer buffer;
        do
        {
            result = StatxRaw(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out buffer);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        return result < 0 ? throw ErrnoException.FromLastError("statx", path) : buffer;
    }
}
