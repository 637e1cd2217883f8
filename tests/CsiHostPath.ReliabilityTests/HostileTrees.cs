using System.Net.Sockets;
using CsiHostPath.ReliabilityTests.Infrastructure;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// What a hostile pod can leave in its volume, each built through the pod's view of it (the published target).
/// Each returns how many entries it made.
/// </summary>
internal static class HostileTrees
{
    public static readonly string[] All =
        ["symlinks", "hardlinks", "fifos", "sockets", "devices", "deep", "many-files", "odd-names", "modes"];

    public static int Build(string tree, string target, string canary, string neighbour, int files = 0) => tree switch
    {
        "symlinks" => Symlinks(target, canary, neighbour),
        "hardlinks" => HardLinks(target),
        "fifos" => Special(target, Native.S_IFIFO, 0),
        "sockets" => Sockets(target),
        "devices" => Devices(target),
        "deep" => Deep(target, Scale.HostileDepth, canary),
        "many-files" => ManyFiles(target, files > 0 ? files : Scale.HostileFiles),
        "odd-names" => OddNames(target),
        "modes" => Modes(target),
        _ => throw new ArgumentOutOfRangeException(nameof(tree), tree, null),
    };

    private static int Symlinks(string target, string canary, string neighbour)
    {
        // Relative links stay beneath the data dir, so RESOLVE_BENEATH alone would follow them: only refusing every
        // symlink keeps the removal out of the neighbour volume and the data dir's own files.
        string neighbourId = Path.GetFileName(Path.GetDirectoryName(neighbour))!;
        var links = new (string Name, string To)[]
        {
            ("root", "/"), ("etc", "/etc"), ("canary", canary), ("canary-secret", Path.Combine(canary, "secret")),
            ("neighbour", neighbour), ("up", "../../../../../../.."), ("self", "self"), ("dangling", "/nonexistent/x"),
            ("sub/back", ".."), ("sub/canary-again", canary), ("sub/deeper/etc-passwd", "/etc/passwd"),
            ("neighbour-relative", $"../../{neighbourId}/data"), ("sub/neighbour-relative", $"../../../{neighbourId}/data/photos"),
            ("data-dir-relative", "../../.."), ("sub/deeper/volumes-relative", "../../../.."),
        };
        Directory.CreateDirectory(Path.Combine(target, "sub", "deeper"));
        foreach (var (name, to) in links)
            File.CreateSymbolicLink(Path.Combine(target, name), to);
        return links.Length + 2;
    }

    private static int HardLinks(string target)
    {
        Directory.CreateDirectory(Path.Combine(target, "d"));
        File.WriteAllText(Path.Combine(target, "original"), "tenant data");
        int fd = Native.OpenDirectory(target);
        try
        {
            for (int i = 0; i < 50; i++)
                Native.Check(Native.LinkAt(fd, Native.Z("original"), fd, Native.Z($"d/link-{i}")), "linkat", $"d/link-{i}");
        }
        finally
        {
            Native.Close(fd);
        }
        return 52;
    }

    private static int Special(string target, uint type, ulong device)
    {
        int fd = Native.OpenDirectory(target);
        try
        {
            Native.Check(Native.MkDirAt(fd, Native.Z("nested")), "mkdirat", "nested");
            for (int i = 0; i < 20; i++)
            {
                string name = (i % 2 == 0 ? "" : "nested/") + $"node-{i}";
                Native.Check(Native.MkNodAt(fd, Native.Z(name), type | 0b110_110_110, device), "mknodat", name);
            }
        }
        finally
        {
            Native.Close(fd);
        }
        return 21;
    }

    private static int Sockets(string target)
    {
        for (int i = 0; i < 10; i++)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(target, $"s{i}")));
            socket.Listen();
        }
        return 10;
    }

    private static int Devices(string target)
    {
        // /dev/null, /dev/mem, /dev/sda and /dev/loop0's numbers: a node is a name to unlink, never a device to open.
        int made = Special(target, Native.S_IFCHR, Native.MakeDev(1, 3));
        int fd = Native.OpenDirectory(target);
        try
        {
            Native.Check(Native.MkNodAt(fd, Native.Z("mem"), Native.S_IFCHR | 0b110_110_110, Native.MakeDev(1, 1)), "mknodat", "mem");
            Native.Check(Native.MkNodAt(fd, Native.Z("sda"), Native.S_IFBLK | 0b110_110_110, Native.MakeDev(8, 0)), "mknodat", "sda");
            Native.Check(Native.MkNodAt(fd, Native.Z("loop0"), Native.S_IFBLK | 0b110_110_110, Native.MakeDev(7, 0)), "mknodat", "loop0");
        }
        finally
        {
            Native.Close(fd);
        }
        return made + 3;
    }

    /// <summary>A chain of directories far deeper than PATH_MAX allows naming, built by descriptor, a link to the canary at the bottom.</summary>
    private static int Deep(string target, int depth, string canary)
    {
        int fd = Native.OpenDirectory(target);
        try
        {
            var d = Native.Z("d");
            for (int level = 0; level < depth; level++)
            {
                Native.Check(Native.MkDirAt(fd, d), "mkdirat", $"level {level}");
                if (level % 1000 == 0)
                    Native.Close(Native.Check(Native.OpenAt(fd, Native.Z($"file-{level}"), Native.O_WRONLY | Native.O_CREAT, 0b110_100_100), "openat", $"file at level {level}"));
                int next = Native.Check(Native.OpenAt(fd, d, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_NOFOLLOW), "openat", $"level {level}");
                Native.Close(fd);
                fd = next;
            }
            Native.Check(Native.SymlinkAt(canary, fd, Native.Z("canary")), "symlinkat", "canary at the bottom");
        }
        finally
        {
            Native.Close(fd);
        }
        return depth + depth / 1000 + 1;
    }

    private static int ManyFiles(string target, int count)
    {
        int fd = Native.OpenDirectory(target);
        try
        {
            for (int i = 0; i < count; i++)
                Native.Close(Native.Check(Native.OpenAt(fd, Native.Z($"f{i}"), Native.O_WRONLY | Native.O_CREAT, 0b110_100_100), "openat", $"f{i}"));
        }
        finally
        {
            Native.Close(fd);
        }
        return count;
    }

    private static int OddNames(string target)
    {
        var names = new List<byte[]>
        {
            Native.Z("a\nb"), Native.Z("\n"), Native.Z("\r\n"), Native.Z(" "), Native.Z("-rf"), Native.Z("*"), Native.Z("..."),
            Native.Z("\\"), Native.Z(new string('x', 253)), Native.Z("ünïcødé-名前"),
            new byte[] { 0xff, 0xfe, 0x80, (byte)'x', 0 }, new byte[] { 0xc3, 0x28, 0 }, new byte[] { (byte)'d', 0x0a, 0xff, 0 },
        };
        int fd = Native.OpenDirectory(target);
        try
        {
            foreach (var name in names)
            {
                // Each odd name twice: as a directory holding a file of the same odd name, and as a file.
                Native.Check(Native.MkDirAt(fd, name), "mkdirat", "odd name");
                int dir = Native.Check(Native.OpenAt(fd, name, Native.O_RDONLY | Native.O_DIRECTORY), "openat", "odd name");
                Native.Close(Native.Check(Native.OpenAt(dir, name, Native.O_WRONLY | Native.O_CREAT, 0b110_100_100), "openat", "odd name"));
                Native.Close(dir);
                byte[] file = [.. name[..^1], (byte)'.', (byte)'f', 0];
                Native.Close(Native.Check(Native.OpenAt(fd, file, Native.O_WRONLY | Native.O_CREAT, 0b110_100_100), "openat", "odd name"));
            }
        }
        finally
        {
            Native.Close(fd);
        }
        return names.Count * 3;
    }

    /// <summary>Directories and files no one may read or write, setuid and sticky bits: root's removal must not depend on modes.</summary>
    private static int Modes(string target)
    {
        string locked = Path.Combine(target, "locked");
        Directory.CreateDirectory(Path.Combine(locked, "inner"));
        File.WriteAllText(Path.Combine(locked, "inner", "f"), "x");
        File.WriteAllText(Path.Combine(target, "setuid"), "x");
        File.SetUnixFileMode(Path.Combine(target, "setuid"), UnixFileMode.SetUser | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(Path.Combine(target, "sticky"));
        File.SetUnixFileMode(Path.Combine(target, "sticky"), UnixFileMode.StickyBit | (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(Path.Combine(locked, "inner"), UnixFileMode.None);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        return 5;
    }
}
