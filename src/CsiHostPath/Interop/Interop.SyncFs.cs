using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFsRaw(SafeFdHandle fd);

    /// <summary>syncfs(2): everything written to the filesystem holding <paramref name="fd"/> reaches the disk.</summary>
    internal static void SyncFs(SafeFdHandle fd, string path)
    {
        int errno = Retry(() => SyncFsRaw(fd));
        if (errno != 0)
            throw new ErrnoException(errno, "syncfs", path);
    }
}
