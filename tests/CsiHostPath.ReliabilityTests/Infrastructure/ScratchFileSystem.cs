namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// A small tmpfs of its own at a test's data dir, so the test can fill it up or make it read-only without
/// touching the machine's disks. Unmounted (detached) on dispose.
/// </summary>
public sealed class ScratchFileSystem : IDisposable
{
    private const ulong MsRdOnly = 0x1;
    private const ulong MsRemount = 0x20;
    private const int MntDetach = 2;
    private readonly string _options;

    public ScratchFileSystem(string path, long sizeBytes, int inodes)
    {
        Path = path;
        _options = $"size={sizeBytes},nr_inodes={inodes},mode=0700";
        Directory.CreateDirectory(path);
        Native.Check(Native.Mount("chp-scratch", path, "tmpfs", 0, _options), "mount", path);
    }

    public string Path { get; }

    public void RemountReadOnly() => Native.Check(Native.Mount("chp-scratch", Path, "tmpfs", MsRemount | MsRdOnly, _options), "mount -o remount,ro", Path);

    public void RemountReadWrite() => Native.Check(Native.Mount("chp-scratch", Path, "tmpfs", MsRemount, _options), "mount -o remount,rw", Path);

    /// <summary>Writes filler files until the filesystem has no byte (or no inode) left; returns the files made.</summary>
    public IReadOnlyList<string> FillUp(bool inodes)
    {
        var made = new List<string>();
        string dir = System.IO.Path.Combine(Path, "filler");
        Directory.CreateDirectory(dir);
        var chunk = new byte[1 << 20];
        try
        {
            for (int i = 0; ; i++)
            {
                string file = System.IO.Path.Combine(dir, $"f{i}");
                using var stream = new FileStream(file, FileMode.CreateNew);
                made.Add(file);
                if (inodes)
                    continue;
                while (true)
                    stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full, as intended.
        }
        return made;
    }

    public void Dispose() => _ = Native.Umount2(Path, MntDetach);
}
