using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    /// <summary>Runs a system call that answers -1 and sets errno on failure, again on EINTR; 0 or the errno.</summary>
    private static int Retry(Func<long> call)
    {
        while (true)
        {
            if (call() >= 0)
                return 0;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
                return errno;
        }
    }
}
