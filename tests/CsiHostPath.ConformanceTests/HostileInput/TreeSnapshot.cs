using System.Security.Cryptography;

namespace CsiHostPath.ConformanceTests.HostileInput;

/// <summary>
/// Every entry beneath a root (type, mode, size, mtime, content hash, link target), minus excluded subtrees: taken
/// before and after hostile calls, a difference is something the driver touched that it had no business touching.
/// </summary>
public sealed class TreeSnapshot
{
    private readonly SortedDictionary<string, string> _entries;

    private TreeSnapshot(SortedDictionary<string, string> entries) => _entries = entries;

    public static TreeSnapshot Take(IEnumerable<string> roots, IReadOnlyCollection<string> excluded)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var root in roots)
            Walk(new DirectoryInfo(root), excluded, entries);
        return new TreeSnapshot(entries);
    }

    /// <summary>One line per entry that appeared, vanished or changed.</summary>
    public IReadOnlyList<string> Differences(TreeSnapshot after)
    {
        var differences = new List<string>();
        foreach (var (path, before) in _entries)
        {
            if (!after._entries.TryGetValue(path, out var now))
                differences.Add($"removed {path} ({before})");
            else if (now != before)
                differences.Add($"changed {path}: {before} -> {now}");
        }
        differences.AddRange(after._entries.Keys.Where(p => !_entries.ContainsKey(p)).Select(p => $"created {p} ({after._entries[p]})"));
        return differences;
    }

    private static void Walk(DirectoryInfo directory, IReadOnlyCollection<string> excluded, SortedDictionary<string, string> entries)
    {
        entries[directory.FullName] = Describe(directory);
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            if (excluded.Contains(entry.FullName))
                continue;
            if (entry is DirectoryInfo child && child.LinkTarget is null)
                Walk(child, excluded, entries);
            else
                entries[entry.FullName] = Describe(entry);
        }
    }

    private static string Describe(FileSystemInfo entry)
    {
        string kind = entry.LinkTarget is { } link ? "link->" + link : entry is DirectoryInfo ? "dir" : "file";
        string content = entry is FileInfo { LinkTarget: null } file && !file.Name.EndsWith(".sock", StringComparison.Ordinal)
            ? $" {file.Length}b sha256={Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file.FullName)))}"
            : "";
        return $"{kind} {entry.UnixFileMode} mtime={entry.LastWriteTimeUtc:O}{content}";
    }
}
