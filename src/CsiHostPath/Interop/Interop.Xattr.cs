using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "flistxattr", SetLastError = true)]
    private static unsafe partial nint FListXattrRaw(SafeFdHandle fd, byte* list, nint size);

    [LibraryImport(Name, EntryPoint = "fgetxattr", SetLastError = true)]
    private static unsafe partial nint FGetXattrRaw(SafeFdHandle fd, byte* name, byte* value, nint size);

    [LibraryImport(Name, EntryPoint = "fsetxattr", SetLastError = true)]
    private static unsafe partial int FSetXattrRaw(SafeFdHandle fd, byte* name, byte* value, nint size, int flags);

    /// <summary>flistxattr(2): the NUL-separated names' length, or minus the errno (ERANGE: the buffer is too small).</summary>
    internal static unsafe int TryListXattr(SafeFdHandle fd, Span<byte> buffer)
    {
        nint length = 0;
        int errno;
        fixed (byte* start = buffer)
        {
            byte* s = start;
            int size = buffer.Length;
            errno = Retry(() => length = FListXattrRaw(fd, s, size));
        }
        return errno == 0 ? (int)length : -errno;
    }

    /// <summary>fgetxattr(2) of a NUL-terminated name: the value's length, or minus the errno.</summary>
    internal static unsafe int TryGetXattr(SafeFdHandle fd, ReadOnlySpan<byte> nameZ, Span<byte> buffer)
    {
        nint length = 0;
        int errno;
        fixed (byte* name = nameZ)
        fixed (byte* start = buffer)
        {
            byte* n = name, s = start;
            int size = buffer.Length;
            errno = Retry(() => length = FGetXattrRaw(fd, n, s, size));
        }
        return errno == 0 ? (int)length : -errno;
    }

    internal static unsafe void SetXattr(SafeFdHandle fd, ReadOnlySpan<byte> nameZ, ReadOnlySpan<byte> value, string path)
    {
        int errno;
        fixed (byte* name = nameZ)
        fixed (byte* start = value)
        {
            byte* n = name, s = start;
            int size = value.Length;
            errno = Retry(() => FSetXattrRaw(fd, n, s, size, 0));
        }
        if (errno != 0)
            throw new ErrnoException(errno, "fsetxattr", path);
    }
}
