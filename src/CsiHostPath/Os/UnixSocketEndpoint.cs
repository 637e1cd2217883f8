using System.Net.Sockets;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Prepares the socket path: its directory exists, and a stale socket left by a dead driver is removed.</summary>
public static class UnixSocketEndpoint
{
    public static void Prepare(string path)
    {
        string directory = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the socket's directory {directory}: {e.Message}", e);
        }
        if (!Path.Exists(path) && new FileInfo(path).LinkTarget is null)
            return;
        if (!IsSocket(path))
            throw new IOException($"{path} exists and is not a socket; refusing to remove it");
        if (IsServed(path))
            throw new IOException($"another process is already serving {path}");
        File.Delete(path);
    }

    /// <summary>Only owner and group (kubelet and the sidecars run as root) may connect.</summary>
    public static void Restrict(string path) =>
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);

    private static bool IsSocket(string path)
    {
        try
        {
            using var _ = Libc.OpenAt(null, path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOFOLLOW);
            return false;
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENXIO)
        {
            // open(2) fails with ENXIO on a unix socket, the one file type that cannot be opened.
            return true;
        }
        catch (ErrnoException)
        {
            return false;
        }
    }

    private static bool IsServed(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
