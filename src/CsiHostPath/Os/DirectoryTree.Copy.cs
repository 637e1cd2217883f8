using System.Text;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

public static partial class DirectoryTree
{
    private const uint PrivateDirMode = 0x1C0; // 0700 until the directory is complete
    private const uint PrivateFileMode = 0x180; // 0600 until the file is complete
    private const int MaxHardLinkPath = 4000;   // linkat's path must stay under PATH_MAX; a deeper link is copied instead

    /// <summary>
    /// Copies the tree beneath <paramref name="sourceRoot"/> into the existing, empty <paramref name="targetRoot"/>,
    /// walking the source with the same cursor <see cref="Remove(string, ILogger)"/> uses: never through a symlink nor
    /// onto another mount, one descriptor whatever the depth. Symlinks are copied as symlinks, hard links as links,
    /// sparse files sparse, FIFOs as FIFOs, with modes, owners, timestamps and user.* xattrs; sockets and device
    /// nodes are left out and logged. Only the source is hostile; the target is the driver's own.
    /// </summary>
    public static TreeCopyResult Copy(string sourceRoot, string targetRoot, ILogger logger, CancellationToken cancellationToken)
    {
        using var cursor = DirectoryCursor.OpenRoot(sourceRoot);
        using var copy = new TreeCopy(sourceRoot, targetRoot, logger, cancellationToken);
        var rootStatus = Libc.FStatx(cursor.Current, sourceRoot);
        copy.CopyXattrs(cursor.Current);
        var pending = new Stack<Libc.FileStatus>();
        while (true)
        {
            while (cursor.TryRead(out var entry))
                copy.Entry(cursor, entry, pending);
            copy.FinishDirectory(cursor.Depth == 0 ? rootStatus : pending.Peek());
            if (cursor.Depth == 0)
                return copy.Result;
            if (!cursor.TryAscend())
                throw new TreeRearrangedException($"{sourceRoot} was rearranged while it was being copied (a directory was moved out from under the copy); retry");
            pending.Pop();
            copy.Ascend();
        }
    }

    /// <summary>The target side of a copy: where the cursor's current directory is being copied to, and what has been copied.</summary>
    private sealed class TreeCopy : IDisposable
    {
        private readonly string _sourceRoot;
        private readonly ILogger _logger;
        private readonly CancellationToken _cancellationToken;
        private readonly SafeFdHandle _targetRoot;
        private readonly List<string> _names = [];
        // Files with more than one link, by identity, to the path of their first copy: the others become links to it.
        private readonly Dictionary<FileIdentity, string> _links = [];
        private readonly byte[] _buffer = new byte[64 * 1024];
        private SafeFdHandle _target;
        private long _entries;
        private long _allocated;
        private long _reflinked;

        public TreeCopy(string sourceRoot, string targetRoot, ILogger logger, CancellationToken cancellationToken)
        {
            _sourceRoot = sourceRoot;
            _logger = logger;
            _cancellationToken = cancellationToken;
            _targetRoot = Libc.OpenAt(null, targetRoot, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
            _target = Libc.OpenAt(_targetRoot, ".", Libc.O_RDONLY | Libc.O_DIRECTORY);
        }

        public TreeCopyResult Result => new(_entries, _allocated, _reflinked);

        public void Entry(DirectoryCursor cursor, in DirectoryEntry entry, Stack<Libc.FileStatus> pending)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (++_entries % ProgressEvery == 0)
                LogCopyProgress(_logger, _sourceRoot, _entries);
            // Gone since it was listed: a tenant removed it, and the copy simply does not have it.
            if (Libc.TryStatxAt(cursor.Current, entry.NameZ, out var status) != 0)
                return;
            switch (status.FileType)
            {
                case Libc.S_IFDIR:
                    Directory(cursor, entry, pending);
                    break;
                case Libc.S_IFREG:
                    File(cursor, entry);
                    break;
                case Libc.S_IFLNK:
                    Symlink(cursor, entry, status);
                    break;
                case Libc.S_IFIFO:
                    if (Check(Libc.TryMkFifoAt(_target, entry.NameZ, PrivateFileMode), "mknodat", cursor, entry))
                        Finish(_target, entry.NameZ, status, cursor.Describe(entry));
                    break;
                default:
                    LogSkipped(_logger, cursor.Describe(entry), status.FileType == Libc.S_IFSOCK ? "socket" : "device node");
                    break;
            }
        }

        private void Directory(DirectoryCursor cursor, in DirectoryEntry entry, Stack<Libc.FileStatus> pending)
        {
            if (!Check(Libc.TryMkDirAt(_target, entry.NameZ, PrivateDirMode), "mkdirat", cursor, entry))
                return;
            switch (cursor.TryDescend(entry, resumeAt: entry.Next))
            {
                case DescendResult.Entered:
                    break;
                case DescendResult.OtherMount:
                    LogSkipped(_logger, cursor.Describe(entry), "mount point");
                    return;
                default:
                    // Replaced since it was looked at: the copy keeps an empty directory in its place.
                    return;
            }
            int errno = Libc.TryOpenAt(_target, entry.NameZ, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, out var child);
            if (errno != 0)
                throw new ErrnoException(errno, "openat", cursor.Describe(entry));
            _target.Dispose();
            _target = child!;
            _names.Add(Encoding.UTF8.GetString(entry.NameZ[..^1]));
            // The status of the directory actually entered, which may differ from the one looked at before.
            pending.Push(Libc.FStatx(cursor.Current, _sourceRoot));
            CopyXattrs(cursor.Current);
        }

        private void File(DirectoryCursor cursor, in DirectoryEntry entry)
        {
            // O_NONBLOCK: a FIFO swapped in since the statx must not block the open.
            int errno = Libc.TryOpenAt(cursor.Current, entry.NameZ, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_NOCTTY, out var opened);
            if (errno is Errno.ENOENT or Errno.ELOOP)
                return;
            if (errno != 0)
                throw new ErrnoException(errno, "openat", cursor.Describe(entry));
            using var source = opened!;
            string path = cursor.Describe(entry);
            var status = Libc.FStatx(source, path);
            if (status.FileType != Libc.S_IFREG)
                return;
            var identity = FileIdentity.Of(status);
            if (status.LinkCount > 1 && _links.TryGetValue(identity, out var first)
                && Libc.TryLinkAt(_targetRoot, Encoding.UTF8.GetBytes(first + "\0"), _target, entry.NameZ) == 0)
                return;
            errno = Libc.TryCreateAt(_target, entry.NameZ, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL, PrivateFileMode, out var created);
            if (errno != 0)
                throw new ErrnoException(errno, "openat", path);
            using var target = created!;
            if (FileData.Copy(source, target, (long)status.Size, path, _cancellationToken))
                _reflinked++;
            CopyXattrs(source, target, path);
            Finish(target, "\0"u8, status, path);
            _allocated += (long)Libc.FStatx(target, path).Blocks * 512;
            if (status.LinkCount > 1)
            {
                string relative = string.Join('/', [.. _names, Encoding.UTF8.GetString(entry.NameZ[..^1])]);
                if (relative.Length < MaxHardLinkPath)
                    _links.TryAdd(identity, relative);
            }
        }

        private void Symlink(DirectoryCursor cursor, in DirectoryEntry entry, in Libc.FileStatus status)
        {
            int length = Libc.TryReadLinkAt(cursor.Current, entry.NameZ, _buffer);
            if (length < 0)
                return;
            _buffer[length] = 0;
            if (Check(Libc.TrySymlinkAt(_buffer.AsSpan(0, length + 1), _target, entry.NameZ), "symlinkat", cursor, entry))
                Finish(_target, entry.NameZ, status, cursor.Describe(entry), symlink: true);
        }

        /// <summary>Owner, then mode (chown clears set-id bits), then times, last, as anything written changes them.</summary>
        private static void Finish(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, in Libc.FileStatus status, string path, bool symlink = false)
        {
            Libc.FChownAt(dir, nameZ, status.Uid, status.Gid, path);
            if (!symlink)
            {
                if (nameZ.Length <= 1)
                    Libc.FChmod(dir, status.Permissions, path);
                else
                    Libc.FChmodAt(dir, nameZ, status.Permissions, path);
            }
            Libc.UtimensAt(dir, nameZ,
                new Libc.TimeSpec { Seconds = status.AccessedSeconds, Nanoseconds = status.AccessedNanoseconds },
                new Libc.TimeSpec { Seconds = status.ModifiedSeconds, Nanoseconds = status.ModifiedNanoseconds },
                path);
        }

        public void FinishDirectory(in Libc.FileStatus status) => Finish(_target, "\0"u8, status, _sourceRoot);

        public void Ascend()
        {
            var parent = Libc.OpenAt(_target, "..", Libc.O_RDONLY | Libc.O_DIRECTORY);
            _target.Dispose();
            _target = parent;
            _names.RemoveAt(_names.Count - 1);
        }

        public void CopyXattrs(SafeFdHandle sourceDir) => CopyXattrs(sourceDir, _target, _sourceRoot);

        /// <summary>The user.* extended attributes; the others belong to the kernel or security modules, not to the tenant.</summary>
        private void CopyXattrs(SafeFdHandle source, SafeFdHandle target, string path)
        {
            int length = Libc.TryListXattr(source, _buffer);
            if (length <= 0)
                return;
            var names = _buffer.AsSpan(0, length).ToArray();
            foreach (var range in names.AsSpan().Split((byte)0))
            {
                var name = names.AsSpan(range);
                if (!name.StartsWith("user."u8))
                    continue;
                byte[] nameZ = [.. name, 0];
                int size = Libc.TryGetXattr(source, nameZ, _buffer);
                if (size >= 0)
                    Libc.SetXattr(target, nameZ, _buffer.AsSpan(0, size), path);
            }
        }

        private static bool Check(int errno, string syscall, DirectoryCursor cursor, in DirectoryEntry entry) =>
            errno == 0 ? true : throw new ErrnoException(errno, syscall, cursor.Describe(entry));

        public void Dispose()
        {
            _target.Dispose();
            _targetRoot.Dispose();
        }
    }

    [LoggerMessage(EventId = 902, Level = LogLevel.Information, Message = "Copying {Path}: {Entries} entries copied so far")]
    private static partial void LogCopyProgress(ILogger logger, string path, long entries);

    [LoggerMessage(EventId = 903, Level = LogLevel.Warning, Message = "Not copied: {Path} is a {Kind}")]
    private static partial void LogSkipped(ILogger logger, string path, string kind);
}
