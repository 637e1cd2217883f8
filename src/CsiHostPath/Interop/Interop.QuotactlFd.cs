using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const int PRJQUOTA = 2;
    internal const uint Q_GETINFO = 0x800005;
    internal const uint Q_GETQUOTA = 0x800007;
    internal const uint Q_SETQUOTA = 0x800008;
    internal const uint QIF_BLIMITS = 1;

    // quotactl_fd(2), Linux 5.14, the same number on every architecture; glibc 2.36 has no wrapper.
    private const long SysQuotactlFd = 443;

    /// <summary>struct if_dqblk (linux/quota.h): block limits count 1 KiB units.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DiskQuota
    {
        internal ulong BlockHardLimit;
        internal ulong BlockSoftLimit;
        internal ulong CurrentSpace;
        internal ulong InodeHardLimit;
        internal ulong InodeSoftLimit;
        internal ulong CurrentInodes;
        internal ulong BlockGraceTime;
        internal ulong InodeGraceTime;
        internal uint Valid;
    }

    /// <summary>struct if_dqinfo (linux/quota.h); only its success matters here.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct QuotaInfo
    {
        internal ulong BlockGrace;
        internal ulong InodeGrace;
        internal uint Flags;
        internal uint Valid;
    }

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallQuotactlFd(long number, SafeFdHandle fd, uint command, uint id, void* data);

    /// <summary>QCMD(command, PRJQUOTA) of linux/quota.h.</summary>
    internal static uint ProjectQuotaCommand(uint command) => (command << 8) | PRJQUOTA;

    /// <summary>quotactl_fd(2) with QCMD(<paramref name="command"/>, PRJQUOTA) on the filesystem holding <paramref name="fd"/>.</summary>
    internal static unsafe void QuotactlProject<T>(SafeFdHandle fd, uint command, uint projectId, ref T data, string path) where T : unmanaged
    {
        long result;
        fixed (T* pointer = &data)
        {
            do
            {
                result = SyscallQuotactlFd(SysQuotactlFd, fd, ProjectQuotaCommand(command), projectId, pointer);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        }
        if (result < 0)
            throw ErrnoException.FromLastError("quotactl_fd", path);
    }
}
