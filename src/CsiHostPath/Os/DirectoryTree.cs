using System.IO.Enumeration;

namespace CsiHostPath.Os;

/// <summary>Walks and removes directory trees without ever following a symlink and without recursion.</summary>
public static class DirectoryTree
{
    private static readonly EnumerationOptions Everything = new()
    {
        RecurseSubdirectories = false,
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        ReturnSpecialDirectories = false,
    };

    /// <summary>Bytes (apparent sizes) and inodes used by the tree, the root included.</summary>
    public static (long Bytes, long Inodes) Usage(string root)
    {
        long bytes = 0, inodes = 1;
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.TryPop(out var directory))
        {
            foreach (var entry in Entries(directory))
            {
                inodes++;
                if (entry.IsRealDirectory)
                    pending.Push(entry.Path);
                else
                    bytes += entry.Length;
            }
        }
        return (bytes, inodes);
    }

    /// <summary>Removes <paramref name="root"/> and all beneath it; a symlink is removed, never followed.</summary>
    public static void Remove(string root)
    {
        if (!Directory.Exists(root) || File.GetAttributes(root).HasFlag(FileAttributes.ReparsePoint))
        {
            if (Path.Exists(root))
                File.Delete(root);
            return;
        }
        // Post-order without recursion: a directory is pushed back, marked, before its subdirectories,
        // and removed when it is popped again, by then empty.
        var pending = new Stack<(string Path, bool Emptied)>();
        pending.Push((root, false));
        while (pending.TryPop(out var item))
        {
            if (item.Emptied)
            {
                Directory.Delete(item.Path);
                continue;
            }
            pending.Push((item.Path, true));
            foreach (var entry in Entries(item.Path))
            {
                if (entry.IsRealDirectory)
                    pending.Push((entry.Path, false));
                else
                    File.Delete(entry.Path);
            }
        }
    }

    private readonly record struct Entry(string Path, bool IsRealDirectory, long Length);

    private static IEnumerable<Entry> Entries(string directory) =>
        new FileSystemEnumerable<Entry>(
            directory,
            (ref FileSystemEntry e) => new Entry(
                e.ToFullPath(),
                e.IsDirectory && !e.Attributes.HasFlag(FileAttributes.ReparsePoint),
                e.IsDirectory ? 0 : e.Length),
            Everything);
}
