using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const ulong RESOLVE_NO_XDEV = 0x01;
    internal const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    internal const ulong RESOLVE_NO_SYMLINKS = 0x04;
    internal const ulong RESOLVE_BENEATH = 0x08;

    // Syscalls added since Linux 5.1 share one number on every architecture; glibc 2.36 has no openat2 wrapper.
    private const long SysOpenAt2 = 437;

    /// <summary>struct open_how (linux/openat2.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        internal ulong Flags;
        internal ulong Mode;
        internal ulong Resolve;
    }

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallOpenAt2(long number, SafeFdHandle dirFd, byte* path, OpenHow* how, nuint size);

    /// <summary>
    /// openat2(2) of <paramref name="pathZ"/> (NUL-terminated bytes, as a directory listing gives them) beneath
    /// <paramref name="dir"/>, retried on EINTR and EAGAIN. Returns 0 and the descriptor, or the errno: ENOSYS
    /// where the kernel (before 5.6) or a seccomp filter lacks openat2, ELOOP/EXDEV/ENOTDIR when resolution is refused.
    /// </summary>
    internal static unsafe int TryOpenAt2(SafeFdHandle dir, ReadOnlySpan<byte> pathZ, int flags, ulong resolve, out SafeFdHandle? fd)
    {
        var how = new OpenHow { Flags = (ulong)(flags | O_CLOEXEC), Resolve = resolve };
        long result;
        int errno;
        fixed (byte* path = pathZ)
        {
            do
            {
                result = SyscallOpenAt2(SysOpenAt2, dir, path, &how, (nuint)sizeof(OpenHow));
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (errno is Errno.EINTR or Errno.EAGAIN);
        }
        fd = result < 0 ? null : new SafeFdHandle((int)result);
        // Docker's older seccomp profiles answer EPERM for syscalls they do not know; treat that as absence.
        return errno == Errno.EPERM ? Errno.ENOSYS : errno;
    }
}
