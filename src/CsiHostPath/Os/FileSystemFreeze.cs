using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// FIFREEZE/FITHAW on a mounted filesystem: while frozen, writers block and what was written is on the device, so a
/// copy of the device is what a power cut at that instant would have left (crash-consistent).
/// </summary>
public sealed class FileSystemFreeze : IDisposable
{
    private readonly SafeFdHandle _root;
    private readonly string _mountPath;

    private FileSystemFreeze(SafeFdHandle root, string mountPath)
    {
        _root = root;
        _mountPath = mountPath;
    }

    /// <summary>Freezes the filesystem mounted at <paramref name="mountPath"/>; disposing the result thaws it.</summary>
    public static FileSystemFreeze Freeze(string mountPath)
    {
        var root = Libc.OpenAt(null, mountPath, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        int errno = Libc.TryFreeze(root);
        if (errno != 0)
        {
            root.Dispose();
            throw new ErrnoException(errno, "ioctl(FIFREEZE)", mountPath);
        }
        return new FileSystemFreeze(root, mountPath);
    }

    /// <summary>Thaws the filesystem at <paramref name="mountPath"/> if it is frozen; true if it was.</summary>
    public static bool ThawIfFrozen(string mountPath)
    {
        using var root = Libc.OpenAt(null, mountPath, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        int errno = Libc.TryThaw(root);
        // EINVAL: not frozen, the usual case.
        return errno == 0 ? true : errno == Errno.EINVAL ? false : throw new ErrnoException(errno, "ioctl(FITHAW)", mountPath);
    }

    public void Dispose()
    {
        int errno = Libc.TryThaw(_root);
        _root.Dispose();
        if (errno is not (0 or Errno.EINVAL))
            throw new ErrnoException(errno, "ioctl(FITHAW)", _mountPath);
    }
}
