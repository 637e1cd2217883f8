namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// A fresh directory for a test's unix socket. Short on purpose: a socket path is limited to 107 bytes, and the
/// temp directory alone can take a good part of that.
/// </summary>
internal sealed class TempSocketDirectory : IDisposable
{
    public TempSocketDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "h2-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string SocketPath => System.IO.Path.Combine(Path, "s.sock");

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
