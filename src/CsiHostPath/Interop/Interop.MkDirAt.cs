using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "mkdirat", SetLastError = true)]
    private static unsafe partial int MkDirAtRaw(SafeFdHandle dirFd, byte* path, uint mode);

    /// <summary>mkdirat(2) of a raw name in <paramref name="dir"/>; 0 or the errno.</summary>
    internal static unsafe int TryMkDirAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, uint mode)
    {
        fixed (byte* name = nameZ)
        {
            byte* n = name;
            return Retry(() => MkDirAtRaw(dir, n, mode));
        }
    }
}
