using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int AT_REMOVEDIR = 0x200;

    [LibraryImport(Name, EntryPoint = "unlinkat", SetLastError = true)]
    private static unsafe partial int UnlinkAtRaw(SafeFdHandle dirFd, byte* path, int flags);

    /// <summary>unlinkat(2) of a raw name in <paramref name="dir"/>, retried on EINTR; 0 or the errno.</summary>
    internal static unsafe int TryUnlinkAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, int flags)
    {
        int result, errno;
        fixed (byte* name = nameZ)
        {
            do
            {
                result = UnlinkAtRaw(dir, name, flags);
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (errno == Errno.EINTR);
        }
        return errno;
    }
}
