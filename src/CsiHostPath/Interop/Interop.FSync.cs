using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSyncRaw(SafeFdHandle fd);

    internal static void FSync(SafeFdHandle fd, string path)
    {
        int result;
        do
        {
            result = FSyncRaw(fd);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (result < 0)
            throw ErrnoException.FromLastError("fsync", path);
    }
}
