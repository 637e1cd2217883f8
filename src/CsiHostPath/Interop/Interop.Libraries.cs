namespace CsiHostPath.Interop;

internal static partial class Libc
{
    // The soname itself: "libc" makes the loader probe a dozen names first (libc.so is a linker script, not a library).
    internal const string Name = "libc.so.6";
}
