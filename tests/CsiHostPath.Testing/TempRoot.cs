namespace CsiHostPath.Testing;

/// <summary>
/// A fresh directory under /tmp, short enough for a unix socket path (108 bytes), removed at the end
/// after every loop device backed by a file beneath it and every mount beneath it has been detached.
/// </summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot(string prefix = "chp")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    /// <summary>A fresh directory under <paramref name="parent"/> instead of /tmp, for tests that must put their files somewhere given.</summary>
    public TempRoot(string prefix, string parent)
    {
        Path = Directory.CreateDirectory(System.IO.Path.Combine(parent, prefix + "-" + Guid.NewGuid().ToString("N")[..12])).FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        // Loop devices first: once the filesystems holding their image files are detached, their backing paths no
        // longer name this root and they could not be found again.
        LoopFileSystem.DetachLoopDevicesBeneath(Path);
        Mounts.DetachAllBeneath(Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory must not hide the test's own result; the next run uses a new name.
        }
    }
}
