using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlRaw(SafeFdHandle fd, ulong request, nint argument);

    /// <summary>ioctl(2) with an integer or pointer argument, retried on EINTR; returns the call's non-negative result.</summary>
    internal static int Ioctl(SafeFdHandle fd, ulong request, nint argument, string path)
    {
        int result;
        do
        {
            result = IoctlRaw(fd, request, argument);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        return result < 0 ? throw ErrnoException.FromLastError("ioctl", path) : result;
    }
}
