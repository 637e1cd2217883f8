using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const byte DT_UNKNOWN = 0;
    internal const byte DT_DIR = 4;

    [LibraryImport(Name, EntryPoint = "getdents64", SetLastError = true)]
    private static unsafe partial nint GetDents64Raw(SafeFdHandle fd, byte* buffer, nuint count);

    /// <summary>
    /// getdents64(2): fills <paramref name="buffer"/> with struct linux_dirent64 records (u64 d_ino, s64 d_off,
    /// u16 d_reclen, u8 d_type, NUL-terminated d_name) and sets the bytes used, 0 at the end of the directory.
    /// Returns 0 or the errno: ENOENT when the directory itself has been removed meanwhile.
    /// </summary>
    internal static unsafe int TryGetDents64(SafeFdHandle dir, Span<byte> buffer, out int length)
    {
        nint result;
        int errno;
        fixed (byte* start = buffer)
        {
            do
            {
                result = GetDents64Raw(dir, start, (nuint)buffer.Length);
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (errno == Errno.EINTR);
        }
        length = result < 0 ? 0 : (int)result;
        return errno;
    }
}
