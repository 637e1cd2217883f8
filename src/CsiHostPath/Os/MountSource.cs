using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// What a mount shows at its root, whatever path leads there: a directory tree's root by (device, inode), or a
/// block device node by its device number, which stays the same in every mount namespace and every /dev.
/// </summary>
public readonly record struct MountSource(uint Major, uint Minor, ulong Inode, bool IsBlockDevice)
{
    /// <summary>What a mount of the opened <paramref name="source"/> shows at its root.</summary>
    public static MountSource Of(SafeFdHandle source, string path) => Of(Libc.FStatx(source, path));

    /// <summary>A failed filesystem on the block device <paramref name="major"/>:<paramref name="minor"/>, whose root cannot be read (EIO); no real root has inode 0.</summary>
    public static MountSource FailedOn(uint major, uint minor) => new(major, minor, 0, false);

    public bool IsFailedFileSystem => Inode == 0 && !IsBlockDevice;

    internal static MountSource Of(in Libc.FileStatus status) =>
        status.IsBlockDevice
            ? new MountSource(status.RdevMajor, status.RdevMinor, 0, true)
            : new MountSource(status.DevMajor, status.DevMinor, status.Inode, false);

    public override string ToString() => IsBlockDevice ? $"block device {Major}:{Minor}" : $"inode {Inode} on device {Major}:{Minor}";
}
