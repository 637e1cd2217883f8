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
}
