using CsiHostPath.Os;

namespace CsiHostPath.UnitTests.Os;

/// <summary>DirectoryTree's removal and walk on trees nobody writes to while they run (the racing tenants are ReliabilityTests').</summary>
public sealed class DirectoryTreeTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("chp-tree-");

    public void Dispose() => _root.Delete(recursive: true);

    /// <summary>
    /// Directories of more than 64 entries each, three levels deep, with symlinks and a FIFO: all of it goes, without
    /// a race taken for a writer (a tree nobody writes to is never given up on), and the symlinks' targets beside it stay.
    /// </summary>
    [Fact]
    public void Remove_NestedTreeNobodyWritesTo_RemovesAllOfItAndNothingBeside()
    {
        string tree = Path.Combine(_root.FullName, "tree");
        string beside = Path.Combine(_root.FullName, "beside");
        Directory.CreateDirectory(beside);
        File.WriteAllText(Path.Combine(beside, "keep"), "keep");
        string dir = tree;
        for (int level = 0; level < 3; level++)
        {
            Directory.CreateDirectory(dir);
            for (int i = 0; i < 150; i++)
                File.WriteAllText(Path.Combine(dir, $"f{i}"), "x");
            File.CreateSymbolicLink(Path.Combine(dir, "to-beside"), beside);
            File.CreateSymbolicLink(Path.Combine(dir, "to-keep"), Path.Combine(beside, "keep"));
            dir = Path.Combine(dir, $"level{level + 1}");
        }
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(tree, "fifo")]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);

        DirectoryTree.Remove(tree);

        Assert.False(Directory.Exists(tree), "the tree is still there");
        Assert.Equal(["keep"], Directory.GetFileSystemEntries(beside).Select(Path.GetFileName));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(beside, "keep")));
    }

    [Fact]
    public void Remove_PathOrItsParentMissing_DoesNothing()
    {
        DirectoryTree.Remove(Path.Combine(_root.FullName, "missing"));
        DirectoryTree.Remove(Path.Combine(_root.FullName, "missing", "child"));

        Assert.Empty(_root.GetFileSystemInfos());
    }

    [Fact]
    public void Remove_TheFileSystemRoot_Refused() =>
        Assert.Throws<ArgumentException>(() => DirectoryTree.Remove("/"));

    [Fact]
    public void Usage_10000Entries_CallsBetweenBatchesEvery4096()
    {
        for (int i = 0; i < 10_000; i++)
            File.Create(Path.Combine(_root.FullName, $"f{i}")).Dispose();
        int pauses = 0;

        var usage = DirectoryTree.Usage(_root.FullName, () => pauses++);

        Assert.Equal(10_000 / DirectoryTree.UsageBatch, pauses);
        Assert.Equal(10_001, usage.Inodes);
    }
}
