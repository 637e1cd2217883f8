using System.Runtime.InteropServices;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// A depth-first position in a directory tree that holds one descriptor and one listing buffer whatever the
/// depth: it steps down by name, never through a symlink nor onto another mount, and back up through "..",
/// checked against the remembered identity of the parent, so a directory moved during the walk is noticed
/// instead of followed. Each level of depth costs one small record, never a descriptor or a stack frame.
/// </summary>
internal sealed class DirectoryCursor : IDisposable
{
    private const int ListingBufferSize = 32 * 1024;
    private const int DirectoryFlags = Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW;
    private const ulong ChildResolve = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_XDEV;

    // Probed once: a kernel without openat2 will not grow one while the driver runs.
    private static bool s_openAt2Missing;

    private readonly Stack<Level> _parents = new();
    private readonly byte[] _listing = new byte[ListingBufferSize];
    private readonly string _rootPath;
    private SafeFdHandle _current;
    private FileIdentity _currentIdentity;
    private int _listed;
    private int _read;
    private long _offset;

    private DirectoryCursor(string rootPath, SafeFdHandle root, FileIdentity identity)
    {
        _rootPath = rootPath;
        _current = root;
        _currentIdentity = identity;
    }

    /// <summary>How many levels below the root the cursor is.</summary>
    public int Depth => _parents.Count;

    /// <summary>The directory the cursor is in, for *at() calls on the entries it lists.</summary>
    public SafeFdHandle Current => _current;

    /// <summary>Opens a trusted path (the data dir's own, or a target kubelet gave) as the root of a walk.</summary>
    public static DirectoryCursor OpenRoot(string path)
    {
        var fd = Libc.OpenAt(null, path, Libc.O_RDONLY | Libc.O_DIRECTORY);
        return new DirectoryCursor(path, fd, FileIdentity.Of(Libc.FStatx(fd, path)));
    }

    /// <summary>Opens the entry <paramref name="nameZ"/> of a trusted directory as the root of a walk, with the same refusals as a step down.</summary>
    public static DescendResult TryOpen(SafeFdHandle parent, ReadOnlySpan<byte> nameZ, string path, out DirectoryCursor? cursor)
    {
        var parentDevice = FileIdentity.Of(Libc.FStatx(parent, path));
        var result = TryOpenChild(parent, parentDevice, nameZ, path, out var fd, out var identity);
        cursor = result == DescendResult.Entered ? new DirectoryCursor(path, fd!, identity) : null;
        return result;
    }

    /// <summary>The next entry of the current directory, "." and ".." left out; false at its end.</summary>
    public bool TryRead(out DirectoryEntry entry)
    {
        while (true)
        {
            if (_read >= _listed)
            {
                int errno = Libc.TryGetDents64(_current, _listing, out _listed);
                // ENOENT: a tenant removed the directory the cursor is in (rename over it); it has nothing left to list.
                if (errno is not (0 or Errno.ENOENT))
                    throw new ErrnoException(errno, "getdents64", _rootPath);
                _read = 0;
                if (_listed == 0)
                {
                    entry = default;
                    return false;
                }
            }
            var record = _listing.AsSpan(_read);
            long next = MemoryMarshal.Read<long>(record[8..]);
            int length = MemoryMarshal.Read<ushort>(record[16..]);
            byte type = record[18];
            var name = record[19..length];
            name = name[..(name.IndexOf((byte)0) + 1)];
            long start = _offset;
            _offset = next;
            _read += length;
            if (name.SequenceEqual(".\0"u8) || name.SequenceEqual("..\0"u8))
                continue;
            entry = new DirectoryEntry(name, type, start, next);
            return true;
        }
    }

    /// <summary>
    /// Steps into <paramref name="entry"/>. Once back up, listing goes on from <paramref name="resumeAt"/>:
    /// the entry's own <see cref="DirectoryEntry.Start"/> to see it again, or its <see cref="DirectoryEntry.Next"/>.
    /// </summary>
    public DescendResult TryDescend(in DirectoryEntry entry, long resumeAt)
    {
        var result = TryOpenChild(_current, _currentIdentity, entry.NameZ, _rootPath, out var child, out var identity);
        if (result != DescendResult.Entered)
            return result;
        _parents.Push(new Level(_currentIdentity, resumeAt));
        _current.Dispose();
        _current = child!;
        _currentIdentity = identity;
        ResetListing(0);
        return DescendResult.Entered;
    }

    /// <summary>
    /// Steps back up to the directory the cursor came down from. False if ".." is no longer that directory
    /// (the current one was moved or removed during the walk); the cursor is then spent.
    /// </summary>
    public bool TryAscend()
    {
        var level = _parents.Pop();
        int errno = Libc.TryOpenAt(_current, "..\0"u8, Libc.O_RDONLY | Libc.O_DIRECTORY, out var parent);
        if (errno == Errno.ENOENT)
            return false;
        if (errno != 0)
            throw new ErrnoException(errno, "openat", _rootPath + "/..");
        var identity = FileIdentity.Of(Libc.FStatx(parent!, _rootPath));
        if (identity != level.Identity)
        {
            parent!.Dispose();
            return false;
        }
        _current.Dispose();
        _current = parent!;
        _currentIdentity = identity;
        Libc.LSeek(_current, level.ResumeAt, _rootPath);
        ResetListing(level.ResumeAt);
        return true;
    }

    /// <summary>A readable name for an entry in an error message: the root, the depth, and the entry.</summary>
    public string Describe(in DirectoryEntry entry) => $"{_rootPath} (depth {Depth}): {entry.DisplayName}";

    public void Dispose() => _current.Dispose();

    private void ResetListing(long offset)
    {
        _listed = 0;
        _read = 0;
        _offset = offset;
    }

    private static DescendResult TryOpenChild(
        SafeFdHandle dir, FileIdentity dirIdentity, ReadOnlySpan<byte> nameZ, string path, out SafeFdHandle? child, out FileIdentity identity)
    {
        identity = default;
        child = null;
        bool viaOpenAt2 = !s_openAt2Missing;
        int errno = viaOpenAt2 ? Libc.TryOpenAt2(dir, nameZ, DirectoryFlags, ChildResolve, out child) : Errno.ENOSYS;
        if (errno == Errno.ENOSYS)
        {
            s_openAt2Missing = true;
            viaOpenAt2 = false;
            errno = Libc.TryOpenAt(dir, nameZ, DirectoryFlags, out child);
        }
        switch (errno)
        {
            case 0:
                break;
            case Errno.ENOENT:
                return DescendResult.Gone;
            case Errno.ENOTDIR or Errno.ELOOP:
                return DescendResult.NotADirectory;
            case Errno.EXDEV:
                // openat2 also answers EXDEV when a rename elsewhere raced its scoped lookup: only a mount is a mount.
                return IsMountOn(dir, dirIdentity, nameZ) ? DescendResult.OtherMount : DescendResult.Gone;
            default:
                throw new ErrnoException(errno, viaOpenAt2 ? "openat2" : "openat", path);
        }
        var status = Libc.FStatx(child!, path);
        identity = FileIdentity.Of(status);
        // Without openat2's RESOLVE_NO_XDEV, a mount is recognised after the fact.
        if (!viaOpenAt2 && (status.IsMountRoot || !identity.SameDevice(dirIdentity)))
        {
            child!.Dispose();
            child = null;
            return DescendResult.OtherMount;
        }
        return DescendResult.Entered;
    }

    private static bool IsMountOn(SafeFdHandle dir, FileIdentity dirIdentity, ReadOnlySpan<byte> nameZ) =>
        Libc.TryStatxAt(dir, nameZ, out var status) == 0 && (status.IsMountRoot || !FileIdentity.Of(status).SameDevice(dirIdentity));

    private readonly record struct Level(FileIdentity Identity, long ResumeAt);
}
