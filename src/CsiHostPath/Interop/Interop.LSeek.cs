using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    private const int SEEK_SET = 0;

    [LibraryImport(Name, EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeekRaw(SafeFdHandle fd, long offset, int whence);

    /// <summary>lseek(2) to an absolute offset; on a directory, to a d_off cookie getdents64 returned.</summary>
    internal static void LSeek(SafeFdHandle fd, long offset, string path)
    {
        if (LSeekRaw(fd, offset, SEEK_SET) < 0)
            throw ErrnoException.FromLastError("lseek", path);
    }
}
