using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>A path with every symlink in its directories resolved, as the kernel sees it; the last component is kept as it is.</summary>
public static class CanonicalPath
{
    /// <summary>The resolved form of <paramref name="path"/>, or <paramref name="path"/> itself while its parent does not exist.</summary>
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
}
