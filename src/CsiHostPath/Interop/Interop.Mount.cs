using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const ulong MS_RDONLY = 0x1;
    internal const ulong MS_NOSUID = 0x2;
    internal const ulong MS_NODEV = 0x4;
    internal const ulong MS_NOEXEC = 0x8;
    internal const ulong MS_REMOUNT = 0x20;
    internal const ulong MS_NOATIME = 0x400;
    internal const ulong MS_NODIRATIME = 0x800;
    internal const ulong MS_BIND = 0x1000;
    internal const ulong MS_RELATIME = 0x200000;

    internal const int MNT_DETACH = 0x2;
    internal const int UMOUNT_NOFOLLOW = 0x8;

    [LibraryImport(Name, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountRaw(string? source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport(Name, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2Raw(string target, int flags);

    internal static void Mount(string? source, string target, string? fsType, ulong flags, string? data)
    {
        int result;
        do
        {
            result = MountRaw(source, target, fsType, flags, data);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (result < 0)
            throw ErrnoException.FromLastError("mount", target);
    }

    internal static void Umount2(string target, int flags)
    {
        int result;
        do
        {
            result = Umount2Raw(target, flags);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (result < 0)
            throw ErrnoException.FromLastError("umount2", target);
    }
}
