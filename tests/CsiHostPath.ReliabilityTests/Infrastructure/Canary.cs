namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// A small tree outside the driver's data dir that tenants point links at: files of every mode, a nested
/// directory, an empty directory, a symlink. Any byte of it changing means the driver reached outside its roots.
/// </summary>
public sealed class Canary
{
    private readonly TreeSnapshot _original;

    public Canary(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.Combine(path, "nested", "deeper"));
        Directory.CreateDirectory(System.IO.Path.Combine(path, "empty"));
        File.WriteAllText(SecretFile, "do not delete\n");
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(System.IO.Path.Combine(path, "nested", "deeper", "blob"), Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray());
        File.CreateSymbolicLink(System.IO.Path.Combine(path, "link"), "secret");
        _original = TreeSnapshot.Take(path);
    }

    public string Path { get; }

    public string SecretFile => System.IO.Path.Combine(Path, "secret");

    public string EmptyDirectory => System.IO.Path.Combine(Path, "empty");

    public int Entries => _original.Count;

    public void AssertUntouched() => _original.AssertUnchanged(Path, $"the canary tree {Path}");

    /// <summary>
    /// Sets every file's and directory's access time years back, so that a read of a file or a listing of a directory
    /// (relatime updates an access time older than a day) shows in <see cref="AssertNotAccessed"/>; so does a probe beside the tree.
    /// </summary>
    public void AgeAccessTimes()
    {
        File.WriteAllText(AccessProbe, "read me");
        // Listed first, all of it: listing a directory after its time was set would set it again.
        _aged = TreeEntries().ToList();
        foreach (var entry in _aged.Append(AccessProbe))
            File.SetLastAccessTimeUtc(entry, Aged);
    }

    /// <summary>No file of the tree was read, nor any directory listed, since <see cref="AgeAccessTimes"/>; and this filesystem does record reads.</summary>
    public void AssertNotAccessed()
    {
        var read = _aged.Where(entry => File.GetLastAccessTimeUtc(entry) != Aged).ToList();
        _ = File.ReadAllText(AccessProbe);
        Assert.True(File.GetLastAccessTimeUtc(AccessProbe) != Aged, $"reading {AccessProbe} did not change its access time: this filesystem cannot show reads");
        Assert.True(read.Count == 0, $"read or listed since the copy began: {string.Join(", ", read)}");
    }

    private static readonly DateTime Aged = new(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);

    private List<string> _aged = [];

    private string AccessProbe => Path + "-access-probe";

    private IEnumerable<string> TreeEntries() =>
        Directory.EnumerateFileSystemEntries(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(entry => new FileInfo(entry).LinkTarget is null)
            .Prepend(Path);
}
