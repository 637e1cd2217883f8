using System.Runtime.InteropServices;

namespace CsiHostPath.Testing;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "kill")]
    internal static partial int Kill(int pid, int signal);
}
