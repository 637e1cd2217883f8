using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary>struct timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        internal long Seconds;
        internal long Nanoseconds;
    }

    [LibraryImport(Name, EntryPoint = "fchownat", SetLastError = true)]
    private static unsafe partial int FChownAtRaw(SafeFdHandle dir, byte* path, uint owner, uint group, int flags);

    [LibraryImport(Name, EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmodRaw(SafeFdHandle fd, uint mode);

    [LibraryImport(Name, EntryPoint = "fchmodat", SetLastError = true)]
    private static unsafe partial int FChmodAtRaw(SafeFdHandle dir, byte* path, uint mode, int flags);

    [LibraryImport(Name, EntryPoint = "futimens", SetLastError = true)]
    private static unsafe partial int FUtimensRaw(SafeFdHandle fd, TimeSpec* times);

    [LibraryImport(Name, EntryPoint = "utimensat", SetLastError = true)]
    private static unsafe partial int UtimensAtRaw(SafeFdHandle dir, byte* path, TimeSpec* times, int flags);

    /// <summary>fchownat(2) of a name, or of <paramref name="dir"/> itself for an empty name, never following a symlink.</summary>
    internal static unsafe void FChownAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, uint owner, uint group, string path)
    {
        int flags = AT_SYMLINK_NOFOLLOW | (nameZ.Length <= 1 ? AT_EMPTY_PATH : 0);
        int errno;
        fixed (byte* name = nameZ)
        {
            byte* n = name;
            errno = Retry(() => FChownAtRaw(dir, n, owner, group, flags));
        }
        if (errno != 0)
            throw new ErrnoException(errno, "fchownat", path);
    }

    internal static void FChmod(SafeFdHandle fd, uint mode, string path)
    {
        int errno = Retry(() => FChmodRaw(fd, mode));
        if (errno != 0)
            throw new ErrnoException(errno, "fchmod", path);
    }

    /// <summary>fchmodat(2) of a name in <paramref name="dir"/> (not a symlink: Linux cannot change a symlink's mode).</summary>
    internal static unsafe void FChmodAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, uint mode, string path)
    {
        int errno;
        fixed (byte* name = nameZ)
        {
            byte* n = name;
            errno = Retry(() => FChmodAtRaw(dir, n, mode, 0));
        }
        if (errno != 0)
            throw new ErrnoException(errno, "fchmodat", path);
    }

    /// <summary>utimensat(2) of a name in <paramref name="dir"/> (or of <paramref name="dir"/> itself for an empty name), never following a symlink.</summary>
    internal static unsafe void UtimensAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, TimeSpec accessed, TimeSpec modified, string path)
    {
        var times = stackalloc TimeSpec[2];
        times[0] = accessed;
        times[1] = modified;
        int errno;
        // glibc's utimensat refuses a NULL path (EINVAL); futimens is the same call on the descriptor itself.
        if (nameZ.Length <= 1)
        {
            errno = Retry(() => FUtimensRaw(dir, times));
        }
        else
        {
            fixed (byte* name = nameZ)
            {
                byte* n = name;
                errno = Retry(() => UtimensAtRaw(dir, n, times, AT_SYMLINK_NOFOLLOW));
            }
        }
        if (errno != 0)
            throw new ErrnoException(errno, "utimensat", path);
    }
}
