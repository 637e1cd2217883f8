using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const uint S_IFIFO = 0x1000;

    [LibraryImport(Name, EntryPoint = "mknodat", SetLastError = true)]
    private static unsafe partial int MkNodAtRaw(SafeFdHandle dir, byte* path, uint mode, ulong device);

    /// <summary>mkfifo in <paramref name="dir"/> (mknodat(2) of S_IFIFO); 0 or the errno.</summary>
    internal static unsafe int TryMkFifoAt(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, uint permissions)
    {
        fixed (byte* name = nameZ)
        {
            byte* n = name;
            return Retry(() => MkNodAtRaw(dir, n, S_IFIFO | permissions, 0));
        }
    }
}
