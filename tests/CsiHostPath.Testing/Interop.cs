using System.Runtime.InteropServices;

namespace CsiHostPath.Testing;

internal static partial class Interop
{
    private const int ORdOnly = 0;
    private const ulong LoopGetStatus64 = 0x4C05;

    // struct loop_info64 (linux/loop.h): lo_device, lo_inode, lo_rdevice, ... 232 bytes.
    private const int LoopInfo64Size = 232;

    [LibraryImport("libc", EntryPoint = "kill")]
    internal static partial int Kill(int pid, int signal);

    /// <summary>The device of the filesystem holding <paramref name="loopDevice"/>'s backing file; null if it is not attached.</summary>
    internal static unsafe (uint Major, uint Minor)? LoopBackingDevice(string loopDevice)
    {
        int fd = Open(loopDevice, ORdOnly);
        if (fd < 0)
            return null;
        try
        {
            byte* info = stackalloc byte[LoopInfo64Size];
            if (Ioctl(fd, LoopGetStatus64, info) != 0)
                return null;
            // The kernel encodes it as stat(2)'s st_dev (huge_encode_dev).
            ulong dev = *(ulong*)info;
            return ((uint)((dev >> 8) & 0xfff), (uint)((dev & 0xff) | ((dev >> 12) & 0xfff00)));
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl")]
    private static unsafe partial int Ioctl(int fd, ulong request, byte* argument);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
