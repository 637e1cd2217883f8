using System.Security.Cryptography;
using System.Text;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// Every entry of a tree, byte for byte: path, type, mode, size, content hash, symlink target. Two snapshots are
/// equal exactly when nothing in the tree was created, removed, changed or followed-and-written.
/// </summary>
public sealed class TreeSnapshot
{
    private readonly SortedDictionary<string, string> _entries;

    private TreeSnapshot(SortedDictionary<string, string> entries) => _entries = entries;

    public int Count => _entries.Count;

    public static TreeSnapshot Take(string root)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(root);
        entries["."] = Describe(new DirectoryInfo(root));
        while (pending.TryPop(out var dir))
        {
            foreach (var info in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
            {
                entries[Path.GetRelativePath(root, info.FullName)] = Describe(info);
                if (info is DirectoryInfo && info.LinkTarget is null)
                    pending.Push(info.FullName);
            }
        }
        return new TreeSnapshot(entries);
    }

    private static string Describe(FileSystemInfo info)
    {
        var mode = info.UnixFileMode;
        if (info.LinkTarget is { } target)
            return $"link -> {target}";
        if (info is DirectoryInfo)
            return $"dir {mode}";
        if (info.Attributes.HasFlag(FileAttributes.Device) || info.Attributes.HasFlag(FileAttributes.System))
            return $"special {mode}";
        var file = (FileInfo)info;
        return $"file {mode} {file.Length} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file.FullName)))}";
    }

    /// <summary>What differs, one line per entry, empty when the trees are the same.</summary>
    public string Diff(TreeSnapshot after)
    {
        var lines = new StringBuilder();
        foreach (var (path, was) in _entries)
        {
            if (!after._entries.TryGetValue(path, out var now))
                lines.AppendLine($"removed {path} ({was})");
            else if (now != was)
                lines.AppendLine($"changed {path}: {was} => {now}");
        }
        foreach (var path in after._entries.Keys.Where(p => !_entries.ContainsKey(p)))
            lines.AppendLine($"created {path} ({after._entries[path]})");
        return lines.ToString();
    }

    public void AssertUnchanged(string root, string what)
    {
        string diff = Diff(Take(root));
        Assert.True(diff.Length == 0, $"{what} changed:\n{diff}");
    }
}
