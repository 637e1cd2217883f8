using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    private const ulong FS_IOC_FSGETXATTR = 0x801C581F;
    private const ulong FS_IOC_FSSETXATTR = 0x401C5820;
    internal const uint FS_XFLAG_PROJINHERIT = 0x200;

    /// <summary>struct fsxattr (linux/fs.h): the inode's project id and the flag that passes it to new children.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 28)]
    internal struct FsXattr
    {
        internal uint XFlags;
        internal uint ExtentSize;
        internal uint Extents;
        internal uint ProjectId;
        internal uint CowExtentSize;
    }

    internal static unsafe FsXattr GetFsXattr(SafeFdHandle fd, string path)
    {
        FsXattr attributes;
        Ioctl(fd, FS_IOC_FSGETXATTR, (nint)(&attributes), path);
        return attributes;
    }

    internal static unsafe void SetFsXattr(SafeFdHandle fd, FsXattr attributes, string path) =>
        Ioctl(fd, FS_IOC_FSSETXATTR, (nint)(&attributes), path);
}
