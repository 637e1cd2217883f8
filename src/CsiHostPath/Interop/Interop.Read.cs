using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadRaw(SafeFdHandle fd, byte* buffer, nint count);

    /// <summary>read(2), retried on EINTR; 0 at end of file.</summary>
    internal static unsafe int Read(SafeFdHandle fd, Span<byte> buffer, string path)
    {
        nint result;
        fixed (byte* start = buffer)
        {
            do
            {
                result = ReadRaw(fd, start, buffer.Length);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        }
        return result < 0 ? throw ErrnoException.FromLastError("read", path) : (int)result;
    }
}
