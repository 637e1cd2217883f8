using System.Runtime.InteropServices;

namespace CsiHostPath.Interop;

internal static partial class Libc
{
    /// <summary>struct statfs on 64-bit Linux: every field is 64 bits wide but f_fsid, which is two ints.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StatFsBuffer
    {
        internal long Type;
        internal long BlockSize;
        internal ulong Blocks;
        internal ulong BlocksFree;
        internal ulong BlocksAvailable;
        internal ulong Files;
        internal ulong FilesFree;
        internal long FsId;
        internal long NameLength;
        internal long FragmentSize;
        internal long Flags;
        internal long Spare0;
        internal long Spare1;
        internal long Spare2;
        internal long Spare3;
    }

    [LibraryImport(Name, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatFsRaw(string path, out StatFsBuffer buffer);

    internal static StatFsBuffer StatFs(string path)
    {
        int result;
        StatFsBuffer buffer;
        do
        {
            result = StatFsRaw(path, out buffer);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        return result < 0 ? throw ErrnoException.FromLastError("statfs", path) : buffer;
    }
}
