using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int O_WRONLY = 0x1;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_NOCTTY = 0x100;
    private const int SEEK_DATA = 3;
    private const int SEEK_HOLE = 4;
    private const ulong FICLONE = 0x40049409;

    [LibraryImport(Name, EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeekWhenceRaw(SafeFdHandle fd, long offset, int whence);

    [LibraryImport(Name, EntryPoint = "copy_file_range", SetLastError = true)]
    private static unsafe partial nint CopyFileRangeRaw(SafeFdHandle fdIn, long* offIn, SafeFdHandle fdOut, long* offOut, nint length, uint flags);

    [LibraryImport(Name, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncateRaw(SafeFdHandle fd, long length);

    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlFdRaw(SafeFdHandle fd, ulong request, SafeFdHandle argument);

    [LibraryImport(Name, EntryPoint = "openat", SetLastError = true)]
    private static unsafe partial int OpenAtModeRaw(SafeFdHandle dirFd, byte* path, int flags, uint mode);

    /// <summary>openat(2) of a raw name with O_CREAT's mode; 0 and the descriptor, or the errno.</summary>
    internal static unsafe int TryCreateAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, int flags, uint mode, out SafeFdHandle? fd)
    {
        int result = -1;
        int errno;
        fixed (byte* name = nameZ)
        {
            byte* n = name;
            errno = Retry(() => result = OpenAtModeRaw(dir, n, flags | O_CLOEXEC, mode));
        }
        fd = errno == 0 ? new SafeFdHandle(result) : null;
        return errno;
    }

    /// <summary>FICLONE: makes <paramref name="target"/> share all of <paramref name="source"/>'s blocks; 0 or the errno (EOPNOTSUPP, EXDEV, EINVAL where it cannot).</summary>
    internal static int TryClone(SafeFdHandle target, SafeFdHandle source) =>
        Retry(() => IoctlFdRaw(target, FICLONE, source));

    /// <summary>lseek(2) with SEEK_DATA: the next offset holding data at or after <paramref name="offset"/>, or -1 when only a hole follows.</summary>
    internal static long SeekData(SafeFdHandle fd, long offset, string path) => SeekExtent(fd, offset, SEEK_DATA, path);

    /// <summary>lseek(2) with SEEK_HOLE: where the data run at <paramref name="offset"/> ends (the file's end counts as a hole).</summary>
    internal static long SeekHole(SafeFdHandle fd, long offset, string path) => SeekExtent(fd, offset, SEEK_HOLE, path);

    private static long SeekExtent(SafeFdHandle fd, long offset, int whence, string path)
    {
        long result = 0;
        int errno = Retry(() => result = LSeekWhenceRaw(fd, offset, whence));
        return errno switch
        {
            0 => result,
            Errno.ENXIO => -1,
            _ => throw new ErrnoException(errno, "lseek", path),
        };
    }

    /// <summary>copy_file_range(2) of up to <paramref name="length"/> bytes at the same offset in both files; the bytes copied (0 at end of file).</summary>
    internal static unsafe long CopyFileRange(SafeFdHandle source, SafeFdHandle target, long offset, long length, string path)
    {
        long inOffset = offset, outOffset = offset;
        while (true)
        {
            nint copied = CopyFileRangeRaw(source, &inOffset, target, &outOffset, (nint)length, 0);
            if (copied >= 0)
                return copied;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
                throw new ErrnoException(errno, "copy_file_range", path);
        }
    }

    internal static void FTruncate(SafeFdHandle fd, long length, string path)
    {
        int errno = Retry(() => FTruncateRaw(fd, length));
        if (errno != 0)
            throw new ErrnoException(errno, "ftruncate", path);
    }
}
