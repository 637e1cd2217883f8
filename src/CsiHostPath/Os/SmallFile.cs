using System.Text;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// Reads whole small files relative to an open directory, into a buffer the caller reuses: start-up reads one
/// record per volume, and openat + read + close is the least a file costs (File.ReadAllBytes adds two fstats,
/// and resolves the full path every time).
/// </summary>
public static class SmallFile
{
    /// <summary>Reads <paramref name="relativePath"/> under <paramref name="directory"/>, growing <paramref name="buffer"/> as needed; returns its length.</summary>
    public static int ReadAll(SafeFdHandle directory, string relativePath, ref byte[] buffer)
    {
        using var fd = Libc.OpenAt(directory, relativePath, Libc.O_RDONLY | Libc.O_NOFOLLOW);
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            int read = Libc.Read(fd, buffer.AsSpan(length), relativePath);
            if (read == 0)
                return length;
            length += read;
        }
    }

    /// <summary>Removes the file <paramref name="relativePath"/> under <paramref name="directory"/> if it is there, in one unlinkat.</summary>
    public static void DeleteIfPresent(SafeFdHandle directory, string relativePath)
    {
        int errno = Libc.TryUnlinkAt(directory, Encoding.UTF8.GetBytes(relativePath + "\0"), 0);
        if (errno is not (0 or Errno.ENOENT))
            throw new ErrnoException(errno, "unlinkat", relativePath);
    }
}
