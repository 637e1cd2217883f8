using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathRaw(string path, nint resolved);

    [LibraryImport(Name, EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>realpath(3): the absolute path with every symlink, "." and ".." resolved.</summary>
    internal static string RealPath(string path)
    {
        nint resolved = RealPathRaw(path, 0);
        if (resolved == 0)
            throw ErrnoException.FromLastError("realpath", path);
        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            Free(resolved);
        }
    }
}
