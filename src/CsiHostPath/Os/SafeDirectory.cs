using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Opens directories beneath a trusted root one component at a time, refusing every symlink on the way.</summary>
public static class SafeDirectory
{
    /// <summary>
    /// Opens root/c1/c2/... as an O_PATH descriptor. A symlink at any step fails with ELOOP or ENOTDIR,
    /// so the result is always a real directory inside <paramref name="root"/>.
    /// </summary>
    public static SafeFdHandle OpenBeneath(string root, params ReadOnlySpan<string> components)
    {
        var current = Libc.OpenAt(null, root, Libc.O_PATH | Libc.O_DIRECTORY);
        foreach (var component in components)
        {
            if (component.Length == 0 || component == "." || component == ".." || component.Contains('/'))
            {
                current.Dispose();
                throw new ArgumentException($"'{component}' is not a single path component", nameof(components));
            }
            try
            {
                var next = Libc.OpenAt(current, component, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
                current.Dispose();
                current = next;
            }
            catch
            {
                current.Dispose();
                throw;
            }
        }
        return current;
    }
}
