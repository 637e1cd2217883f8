using CsiHostPath.Interop;
using Microsoft.Win32.SafeHandles;

namespace CsiHostPath.Os;

/// <summary>
/// Copies one file's data: by FICLONE where the filesystem shares blocks (xfs with reflink, btrfs), in
/// milliseconds whatever the size; otherwise only the ranges that hold data, so a sparse file stays sparse.
/// </summary>
public static class FileData
{
    // Copying in bounded steps lets a cancelled call (the CO's deadline) stop within one step.
    private const long Step = 64L << 20;

    /// <summary>Copies <paramref name="size"/> bytes of <paramref name="source"/> into the empty <paramref name="target"/>; true if the blocks are shared (reflink).</summary>
    public static bool Copy(SafeFdHandle source, SafeFdHandle target, long size, string path, CancellationToken cancellationToken)
    {
        if (size > 0 && Libc.TryClone(target, source) == 0)
            return true;
        long offset = 0;
        while (offset < size)
        {
            long data = Libc.SeekData(source, offset, path);
            if (data < 0 || data >= size)
                break;
            long end = Math.Min(size, Libc.SeekHole(source, data, path));
            CopyRange(source, target, data, end, path, cancellationToken);
            offset = end;
        }
        Libc.FTruncate(target, size, path);
        return false;
    }

    private static void CopyRange(SafeFdHandle source, SafeFdHandle target, long start, long end, string path, CancellationToken cancellationToken)
    {
        long offset = start;
        while (offset < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long copied;
            try
            {
                copied = Libc.CopyFileRange(source, target, offset, Math.Min(Step, end - offset), path);
            }
            catch (ErrnoException e) when (e.Errno is Errno.EXDEV or Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOSYS)
            {
                copied = CopyThroughMemory(source, target, offset, Math.Min(Step, end - offset), path);
            }
            // The file shrank under us (a tenant truncated it): what is left is a hole, which ftruncate makes.
            if (copied == 0)
                return;
            offset += copied;
        }
    }

    private static long CopyThroughMemory(SafeFdHandle source, SafeFdHandle target, long offset, long length, string path)
    {
        using var input = new SafeFileHandle(source.DangerousGetHandle(), ownsHandle: false);
        using var output = new SafeFileHandle(target.DangerousGetHandle(), ownsHandle: false);
        var buffer = new byte[Math.Min(length, 1 << 20)];
        long copied = 0;
        while (copied < length)
        {
            int read = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - copied)), offset + copied);
            if (read == 0)
                break;
            RandomAccess.Write(output, buffer.AsSpan(0, read), offset + copied);
            copied += read;
        }
        return copied;
    }
}
