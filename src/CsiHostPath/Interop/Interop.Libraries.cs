namespace CsiHostPath.Interop;

internal static partial class Libc
{
    internal const string Name = "libc";
}
