using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "openat", SetLastError = true)]
    private static unsafe partial int OpenAtBytesRaw(SafeFdHandle dirFd, byte* path, int flags, int mode);

    /// <summary>
    /// openat(2) of a raw name (NUL-terminated bytes, not necessarily UTF-8, as tenants may name files), retried on
    /// EINTR. Returns 0 and the descriptor, or the errno for the caller to react to.
    /// </summary>
    internal static unsafe int TryOpenAt(SafeFdHandle dir, ReadOnlySpan<byte> pathZ, int flags, out SafeFdHandle? fd)
    {
        int result, errno;
        fixed (byte* path = pathZ)
        {
            do
            {
                result = OpenAtBytesRaw(dir, path, flags | O_CLOEXEC, 0);
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (errno == Errno.EINTR);
        }
        fd = result < 0 ? null : new SafeFdHandle(result);
        return errno;
    }
}
