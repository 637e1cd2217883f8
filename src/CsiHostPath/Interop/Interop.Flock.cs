using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;

    [LibraryImport(Name, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockRaw(SafeFileHandle fd, int operation);

    /// <summary>flock(2) LOCK_EX without blocking: false while another open file description holds the lock.</summary>
    internal static bool TryLockExclusive(SafeFileHandle fd, string path)
    {
        int result;
        do
        {
            result = FlockRaw(fd, LOCK_EX | LOCK_NB);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (result == 0)
            return true;
        return Marshal.GetLastPInvokeError() == Errno.EAGAIN ? false : throw ErrnoException.FromLastError("flock", path);
    }
}
