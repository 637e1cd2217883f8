using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

/// <summary>A failed system call, with the call and the path it was made on, so the status message says what broke.</summary>
public sealed class ErrnoException(int errno, string syscall, string? path)
    : IOException($"{syscall}({path}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public int Errno { get; } = errno;

    internal static ErrnoException FromLastError(string syscall, string? path) =>
        new(Marshal.GetLastPInvokeError(), syscall, path);
}
