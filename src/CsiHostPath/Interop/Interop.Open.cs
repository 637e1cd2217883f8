using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int O_RDONLY = 0x0;
    internal const int O_RDWR = 0x2;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_NOFOLLOW = 0x20000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_PATH = 0x200000;
    internal const int AT_FDCWD = -100;

    [LibraryImport(Name, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAtRaw(int dirFd, string path, int flags, int mode);

    [LibraryImport(Name, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>openat(2), retried on EINTR; throws <see cref="ErrnoException"/> on failure.</summary>
    internal static SafeFdHandle OpenAt(SafeFdHandle? dir, string path, int flags)
    {
        bool added = false;
        try
        {
            dir?.DangerousAddRef(ref added);
            int dirFd = dir?.Fd ?? AT_FDCWD;
            int fd;
            do
            {
                fd = OpenAtRaw(dirFd, path, flags | O_CLOEXEC, 0);
            }
            while (fd < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            return fd < 0 ? throw ErrnoException.FromLastError("openat", path) : new SafeFdHandle(fd);
        }
        finally
        {
            if (added)
                dir!.DangerousRelease();
        }
    }
}
