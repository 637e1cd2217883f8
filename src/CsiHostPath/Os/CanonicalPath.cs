using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Paths as the kernel names them, with symlinks resolved: mount points and loop devices' files read so.</summary>
public static class CanonicalPath
{
    /// <summary>
    /// <paramref name="path"/> with every symlink in its directories resolved, the last component kept as it is; or
    /// <paramref name="path"/> itself while its parent does not exist.
    /// </summary>
    public static string Of(string path)
    {
        string? parent = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(parent))
            return path;
        try
        {
            using var dir = Libc.OpenAt(null, parent, Libc.O_PATH | Libc.O_DIRECTORY);
            string? resolved = new FileInfo(dir.ProcPath).LinkTarget;
            return resolved is null ? path : Path.Join(resolved, Path.GetFileName(path));
        }
        catch (IOException)
        {
            return path;
        }
    }

    /// <summary>
    /// <paramref name="path"/> with every symlink in its existing part resolved, the last component too; the part that
    /// does not exist yet is kept as written.
    /// </summary>
    public static string OfAll(string path)
    {
        try
        {
            return Libc.RealPath(path);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENOENT && Path.GetDirectoryName(path) is { } parent)
        {
            return Path.Combine(OfAll(parent), Path.GetFileName(path));
        }
    }
}
