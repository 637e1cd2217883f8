using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>(st_dev, st_ino): what a file or directory is, whatever it is called now and in whatever mount namespace.</summary>
public readonly record struct FileIdentity(uint DevMajor, uint DevMinor, ulong Inode)
{
    internal static FileIdentity Of(in Libc.FileStatus status) => new(status.DevMajor, status.DevMinor, status.Inode);

    /// <summary>The file at <paramref name="path"/> itself, never a symlink's target.</summary>
    public static FileIdentity OfPath(string path) => Of(Libc.Lstat(path));

    public bool SameDevice(FileIdentity other) => DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}
