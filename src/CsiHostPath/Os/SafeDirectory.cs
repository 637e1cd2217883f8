using System.Text;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Opens directories beneath a trusted root without following any symlink a tenant may have put on the way.</summary>
public static class SafeDirectory
{
    private const int PathDirectory = Libc.O_PATH | Libc.O_DIRECTORY;

    // Probed once: a kernel without openat2 will not grow one while the driver runs.
    private static bool s_openAt2Missing;

    /// <summary>
    /// Opens root/c1/c2/... as an O_PATH descriptor: in one openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) where the
    /// kernel has it, else one O_NOFOLLOW openat per component. A symlink anywhere below the root fails with
    /// ELOOP or ENOTDIR, so the result is always a real directory inside <paramref name="root"/>.
    /// </summary>
    public static SafeFdHandle OpenBeneath(string root, params ReadOnlySpan<string> components)
    {
        foreach (var component in components)
        {
            if (component.Length == 0 || component == "." || component == ".." || component.Contains('/') || component.Contains('\0'))
                throw new ArgumentException($"'{component}' is not a single path component", nameof(components));
        }
        var rootFd = Libc.OpenAt(null, root, PathDirectory);
        if (components.IsEmpty)
            return rootFd;
        using (rootFd)
        {
            string relative = string.Join('/', components.ToArray());
            if (!s_openAt2Missing)
            {
                int errno = Libc.TryOpenAt2(
                    rootFd, Encoding.UTF8.GetBytes(relative + "\0"), PathDirectory, Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS, out var fd);
                if (errno == 0)
                    return fd!;
                if (errno != Errno.ENOSYS)
                    throw new ErrnoException(errno, "openat2", Path.Combine(root, relative));
                s_openAt2Missing = true;
            }
            return WalkNoFollow(rootFd, components);
        }
    }

    private static SafeFdHandle WalkNoFollow(SafeFdHandle root, ReadOnlySpan<string> components)
    {
        SafeFdHandle? current = null;
        foreach (var component in components)
        {
            try
            {
                var next = Libc.OpenAt(current ?? root, component, PathDirectory | Libc.O_NOFOLLOW);
                current?.Dispose();
                current = next;
            }
            catch
            {
                current?.Dispose();
                throw;
            }
        }
        return current!;
    }
}
