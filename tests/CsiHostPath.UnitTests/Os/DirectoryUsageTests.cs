using System.Diagnostics;
using CsiHostPath.Os;

namespace CsiHostPath.UnitTests.Os;

/// <summary>A directory volume's used bytes and inodes agree with what du says the tree takes on disk.</summary>
public sealed class DirectoryUsageTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("chp-usage-");

    [Fact]
    public void SmallFiles_CountTheBlocksTheyTake_NotTheirLength()
    {
        Directory.CreateDirectory(Path.Combine(_root.FullName, "d"));
        for (int i = 0; i < 200; i++)
            File.WriteAllBytes(Path.Combine(_root.FullName, "d", $"f{i}"), new byte[100]);

        var usage = DirectoryTree.Usage(_root.FullName);

        AssertMatchesDu(usage);
        Assert.True(usage.Bytes >= 200 * 4096 / 8, $"200 files of 100 bytes take blocks, not 20,000 bytes: {usage.Bytes}");
    }

    [Fact]
    public void SparseFile_CountsOnlyItsWrittenBlocks()
    {
        using (var file = File.Create(Path.Combine(_root.FullName, "sparse")))
        {
            file.SetLength(1L << 30);
            file.Position = 1L << 29;
            file.Write(new byte[8192]);
        }

        var usage = DirectoryTree.Usage(_root.FullName);

        AssertMatchesDu(usage);
        Assert.True(usage.Bytes < 1L << 20, $"a 1 GiB file with 8 KiB written takes far less than 1 GiB: {usage.Bytes}");
    }

    [Fact]
    public void HardLinks_CountOnce_AndSymlinks_CountAsThemselves()
    {
        string data = Path.Combine(_root.FullName, "data");
        File.WriteAllBytes(data, new byte[1 << 20]);
        Directory.CreateDirectory(Path.Combine(_root.FullName, "sub"));
        for (int i = 0; i < 5; i++)
            Link(data, Path.Combine(_root.FullName, "sub", $"link{i}"));
        // A symlink to a large file outside the tree: counted as the link, never as what it points to.
        string outside = Path.Combine(Path.GetTempPath(), $"chp-usage-outside-{Guid.NewGuid():N}");
        File.WriteAllBytes(outside, new byte[4 << 20]);
        try
        {
            File.CreateSymbolicLink(Path.Combine(_root.FullName, "escape"), outside);
            File.CreateSymbolicLink(Path.Combine(_root.FullName, "loop"), ".");

            var usage = DirectoryTree.Usage(_root.FullName);

            AssertMatchesDu(usage);
            Assert.True(usage.Bytes < 2 << 20, $"one 1 MiB file, six names: {usage.Bytes}");
        }
        finally
        {
            File.Delete(outside);
        }
    }

    /// <summary>Subdirectories among the files at every level: what is listed after coming back up from each is counted too.</summary>
    [Fact]
    public void NestedDirectories_EveryEntryOfEveryLevelCounted()
    {
        string dir = _root.FullName;
        for (int level = 0; level < 4; level++)
        {
            for (int i = 0; i < 3; i++)
                Directory.CreateDirectory(Path.Combine(dir, $"d{i}", "inner"));
            for (int i = 0; i < 30; i++)
                File.WriteAllBytes(Path.Combine(dir, $"f{i}"), new byte[5000]);
            dir = Path.Combine(dir, "d1");
        }

        var usage = DirectoryTree.Usage(_root.FullName);

        AssertMatchesDu(usage);
        Assert.Equal(1 + 4 * (3 + 3 + 30), usage.Inodes);
    }

    private void AssertMatchesDu(DiskUsage usage)
    {
        Assert.Equal(Du("-sB1"), usage.Bytes);
        Assert.Equal(Du("-s", "--inodes"), usage.Inodes);
    }

    private long Du(params string[] args)
    {
        var start = new ProcessStartInfo("du") { RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add(_root.FullName);
        using var du = Process.Start(start)!;
        string output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        Assert.Equal(0, du.ExitCode);
        return long.Parse(output.Split('\t')[0]);
    }

    private static void Link(string existing, string link)
    {
        var ln = Process.Start("ln", [existing, link]);
        ln.WaitForExit();
        Assert.Equal(0, ln.ExitCode);
    }

    public void Dispose() => _root.Delete(recursive: true);
}
