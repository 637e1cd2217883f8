using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    private const ulong FIFREEZE = 0xC0045877;
    private const ulong FITHAW = 0xC0045878;

    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlIntRaw(SafeFdHandle fd, ulong request, nint argument);

    /// <summary>FIFREEZE on any descriptor within a mounted filesystem: writes block and the journal is flushed; 0 or the errno (EBUSY: already frozen).</summary>
    internal static int TryFreeze(SafeFdHandle fd) => Retry(() => IoctlIntRaw(fd, FIFREEZE, 0));

    /// <summary>FITHAW: releases a frozen filesystem; 0 or the errno (EINVAL: it was not frozen).</summary>
    internal static int TryThaw(SafeFdHandle fd) => Retry(() => IoctlIntRaw(fd, FITHAW, 0));
}
