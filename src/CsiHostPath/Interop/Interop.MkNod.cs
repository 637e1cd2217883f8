using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const uint S_IFBLK = 0x6000;

    [LibraryImport(Name, EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkNodRaw(string path, uint mode, ulong device);

    /// <summary>Creates a block device node; Linux's makedev for majors and minors below 4096 and 1M.</summary>
    internal static void MkBlockDevice(string path, uint major, uint minor, uint permissions)
    {
        ulong device = ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12);
        if (MkNodRaw(path, S_IFBLK | permissions, device) < 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
            throw ErrnoException.FromLastError("mknod", path);
    }
}
