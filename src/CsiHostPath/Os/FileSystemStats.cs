using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>statfs(2) of the filesystem holding a path, in the units CSI reports.</summary>
public readonly record struct FileSystemStats(long TotalBytes, long FreeBytes, long AvailableBytes, long TotalInodes, long FreeInodes, bool IsReadOnly)
{
    private const long StRdOnly = 1;

    public static FileSystemStats Of(string path)
    {
        var s = Libc.StatFs(path);
        long blockSize = s.FragmentSize > 0 ? s.FragmentSize : s.BlockSize;
        return new FileSystemStats(
            checked((long)s.Blocks * blockSize),
            checked((long)s.BlocksFree * blockSize),
            checked((long)s.BlocksAvailable * blockSize),
            (long)s.Files,
            (long)s.FilesFree,
            (s.Flags & StRdOnly) != 0);
    }
}
