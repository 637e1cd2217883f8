using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>(st_dev, st_ino): what a directory is, whatever it is called now.</summary>
internal readonly record struct FileIdentity(uint DevMajor, uint DevMinor, ulong Inode)
{
    public static FileIdentity Of(in Libc.FileStatus status) => new(status.DevMajor, status.DevMinor, status.Inode);

    public bool SameDevice(FileIdentity other) => DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}
