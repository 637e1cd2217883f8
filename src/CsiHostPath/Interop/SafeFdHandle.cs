using Microsoft.Win32.SafeHandles;

namespace CsiHostPath.Interop;

/// <summary>An open file descriptor; fd 0 is a valid descriptor, so only -1 is invalid.</summary>
public sealed class SafeFdHandle : SafeHandleMinusOneIsInvalid
{
    public SafeFdHandle() : base(ownsHandle: true)
    {
    }

    internal SafeFdHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    /// <summary>A path that names exactly this open file, whatever happens to the path it was opened by.</summary>
    public string ProcPath => $"/proc/self/fd/{Fd}";

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
