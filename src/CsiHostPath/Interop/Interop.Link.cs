using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "linkat", SetLastError = true)]
    private static unsafe partial int LinkAtRaw(SafeFdHandle oldDir, byte* oldPath, SafeFdHandle newDir, byte* newPath, int flags);

    [LibraryImport(Name, EntryPoint = "symlinkat", SetLastError = true)]
    private static unsafe partial int SymlinkAtRaw(byte* target, SafeFdHandle newDir, byte* linkPath);

    [LibraryImport(Name, EntryPoint = "readlinkat", SetLastError = true)]
    private static unsafe partial nint ReadLinkAtRaw(SafeFdHandle dir, byte* path, byte* buffer, nint size);

    /// <summary>linkat(2) without following a symlink at <paramref name="oldPathZ"/>; 0 or the errno.</summary>
    internal static unsafe int TryLinkAt(SafeFdHandle oldDir, ReadOnlySpan<byte> oldPathZ, SafeFdHandle newDir, ReadOnlySpan<byte> newNameZ)
    {
        fixed (byte* oldPath = oldPathZ)
        fixed (byte* newName = newNameZ)
        {
            byte* o = oldPath, n = newName;
            return Retry(() => LinkAtRaw(oldDir, o, newDir, n, 0));
        }
    }

    /// <summary>symlinkat(2): a symlink named <paramref name="nameZ"/> holding <paramref name="targetZ"/> as it is; 0 or the errno.</summary>
    internal static unsafe int TrySymlinkAt(ReadOnlySpan<byte> targetZ, SafeFdHandle dir, ReadOnlySpan<byte> nameZ)
    {
        fixed (byte* target = targetZ)
        fixed (byte* name = nameZ)
        {
            byte* t = target, n = name;
            return Retry(() => SymlinkAtRaw(t, dir, n));
        }
    }

    /// <summary>readlinkat(2) into <paramref name="buffer"/>; the target's length, or minus the errno.</summary>
    internal static unsafe int TryReadLinkAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, Span<byte> buffer)
    {
        nint length = 0;
        int errno;
        fixed (byte* name = nameZ)
        fixed (byte* start = buffer)
        {
            byte* n = name, s = start;
            int size = buffer.Length;
            errno = Retry(() => length = ReadLinkAtRaw(dir, n, s, size));
        }
        return errno == 0 ? (int)length : -errno;
    }
}
