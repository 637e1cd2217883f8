using System.Diagnostics;
using System.Text;
using CsiHostPath.Interop;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.Os;

/// <summary>
/// Walks and removes directory trees that untrusted pods have filled: by descriptor, never following a symlink
/// nor crossing onto another mount, without recursion, with one descriptor open whatever the depth.
/// </summary>
public static partial class DirectoryTree
{
    private const long ProgressEvery = 100_000;

    // A race is a sign of a tenant process still writing through a descriptor it holds: a directory found non-empty
    // again right after it was emptied, a pass that ends with the root still full, or a directory that grew while it
    // was being emptied (Removal.Check). This many mean it keeps writing, and the removal gives up with an error
    // (the caller retries later) rather than spin for as long as it writes.
    private const int MaxRaces = 100;

    // Once one race has shown a writer, the removal gives up after this long. A tree nobody writes to has no time limit.
    private static readonly TimeSpan RacingTimeLimit = TimeSpan.FromSeconds(5);

    // How many names are removed from one directory between two looks at its size.
    private const int GrowthCheckEvery = 64;

    // How many entries a usage walk looks at between two calls of its pause: often enough for a caller to keep
    // a walk of a million files from holding a core, rarely enough that the pauses cost nothing on small trees.
    public const int UsageBatch = 4096;

    /// <summary>
    /// The disk the tree really takes, as <c>du -sB1</c> and <c>du --inodes</c> count it: allocated blocks (a sparse
    /// file's holes and a small file's slack counted as the filesystem counts them), every directory's own blocks, a
    /// hard-linked file once, a symlink as itself and never followed, nothing on another mount. A tree rearranged
    /// during the walk is counted in part. <paramref name="betweenBatches"/> runs after every <see cref="UsageBatch"/> entries.
    /// </summary>
    public static DiskUsage Usage(string root, Action? betweenBatches = null)
    {
        using var cursor = DirectoryCursor.OpenRoot(root);
        var rootStatus = Libc.FStatx(cursor.Current, root);
        long bytes = (long)rootStatus.Blocks * 512, inodes = 1, entries = 0;
        // Only files with more than one link can be met twice; the set holds those alone.
        var linked = new HashSet<FileIdentity>();
        while (true)
        {
            while (cursor.TryRead(out var entry))
            {
                if (++entries % UsageBatch == 0)
                    betweenBatches?.Invoke();
                // Gone since it was listed: a tenant removed it, and it takes no space any more.
                if (Libc.TryStatxAt(cursor.Current, entry.NameZ, out var status) != 0)
                    continue;
                if (status.LinkCount > 1 && !status.IsDirectory && !linked.Add(FileIdentity.Of(status)))
                    continue;
                if (status.IsDirectory && cursor.TryDescend(entry, resumeAt: entry.Next) == DescendResult.OtherMount)
                    continue;
                inodes++;
                bytes += (long)status.Blocks * 512;
            }
            if (cursor.Depth == 0 || !cursor.TryAscend())
                return new DiskUsage(bytes, inodes);
        }
    }

    /// <summary>Removes <paramref name="root"/> and all beneath it; a symlink is removed, never followed.</summary>
    public static void Remove(string root) => Remove(root, NullLogger.Instance);

    /// <summary>
    /// Removes <paramref name="root"/> and all beneath it, logging progress to <paramref name="logger"/> for huge
    /// trees. Only the last component of <paramref name="root"/> may be a tenant's; everything beneath it is
    /// treated as hostile: a symlink is removed, never followed, and a mount inside the tree stops the removal.
    /// </summary>
    public static void Remove(string root, ILogger logger)
    {
        string path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string parentPath = Path.GetDirectoryName(path) ?? throw new ArgumentException("refusing to remove /", nameof(root));
        byte[] nameZ = Encoding.UTF8.GetBytes(Path.GetFileName(path) + "\0");
        SafeFdHandle parent;
        try
        {
            parent = Libc.OpenAt(null, parentPath, Libc.O_RDONLY | Libc.O_DIRECTORY);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENOENT)
        {
            return;
        }
        using (parent)
        {
            var removal = new Removal(path, logger);
            int errno;
            for (bool again = false; RemoveEntry(parent, nameZ, Libc.DT_UNKNOWN, out errno) == EntryRemoval.NotEmpty; again = true)
            {
                if (again)
                    removal.Race();
                var opened = DirectoryCursor.TryOpen(parent, nameZ, path, out var cursor);
                if (opened == DescendResult.OtherMount)
                    throw new ErrnoException(Errno.EXDEV, "openat2", path);
                if (cursor is not null)
                {
                    using (cursor)
                        Empty(cursor, removal);
                }
            }
            if (errno != 0)
                throw new ErrnoException(errno, "unlinkat", path);
            removal.Finish();
        }
    }

    /// <summary>One pass over the tree under <paramref name="cursor"/>, removing what it can; ends at the root or when the tree was rearranged under it.</summary>
    private static void Empty(DirectoryCursor cursor, Removal removal)
    {
        bool ascended = false;
        removal.BeginPass(cursor.Current);
        while (true)
        {
            while (cursor.TryRead(out var entry))
            {
                switch (RemoveEntry(cursor.Current, entry.NameZ, entry.Type, out int errno))
                {
                    case EntryRemoval.Gone:
                        removal.Count(cursor.Current);
                        ascended = false;
                        continue;
                    case EntryRemoval.Failed:
                        throw new ErrnoException(errno, "unlinkat", cursor.Describe(entry));
                }
                // The first entry after coming back up is the directory just emptied: full again means a race.
                if (ascended)
                    removal.Race();
                ascended = false;
                // A directory with something in it: empty it, then come back to this entry to remove it.
                // Gone or NotADirectory means a tenant changed it since; the next pass sees what it is now.
                switch (cursor.TryDescend(entry, resumeAt: entry.Start))
                {
                    case DescendResult.OtherMount:
                        throw new ErrnoException(Errno.EXDEV, "openat2", cursor.Describe(entry));
                    case DescendResult.Entered:
                        removal.Entered(cursor.Current);
                        break;
                }
            }
            if (cursor.Depth == 0 || !cursor.TryAscend())
                return;
            removal.Ascended(cursor.Current);
            ascended = true;
        }
    }

    private static EntryRemoval RemoveEntry(SafeFdHandle dir, ReadOnlySpan<byte> nameZ, byte type, out int errno)
    {
        int flags = type is Libc.DT_DIR or Libc.DT_UNKNOWN ? Libc.AT_REMOVEDIR : 0;
        // A tenant can flip a name between a file and a directory as fast as we look: a few tries, then the next pass.
        for (int attempt = 0; attempt < 4; attempt++)
        {
            errno = Libc.TryUnlinkAt(dir, nameZ, flags);
            switch (errno)
            {
                case 0 or Errno.ENOENT:
                    errno = 0;
                    return EntryRemoval.Gone;
                case Errno.ENOTEMPTY or Errno.EEXIST:
                    errno = 0;
                    return EntryRemoval.NotEmpty;
                case Errno.ENOTDIR:
                    flags = 0;
                    break;
                case Errno.EISDIR:
                    flags = Libc.AT_REMOVEDIR;
                    break;
                default:
                    return EntryRemoval.Failed;
            }
        }
        errno = 0;
        return EntryRemoval.NotEmpty;
    }

    private enum EntryRemoval
    {
        Gone,
        NotEmpty,
        Failed,
    }

    /// <summary>
    /// Counts removed entries, logging every <see cref="ProgressEvery"/> so a huge delete is visibly moving, and races
    /// lost to a writer. A tenant that creates names in a directory faster than they are removed keeps a pass in that
    /// directory going for as long as it writes, so that no pass ends and no emptied directory is found full again;
    /// what shows it is the directory itself, looked at again while it is emptied: removing names never makes a
    /// directory bigger, nor takes more names out of it than its size when the pass entered it can hold (a name takes
    /// at least 2 bytes of a directory's size: btrfs counts twice its length, ext4, xfs and tmpfs more).
    /// </summary>
    private sealed class Removal(string path, ILogger logger)
    {
        private readonly Stack<Visit> _visits = new();
        private int _races;
        private long _firstRace;

        public long Removed { get; private set; }

        public void Race()
        {
            if (_races++ == 0)
                _firstRace = Stopwatch.GetTimestamp();
            if (_races > MaxRaces)
                throw KeepsWriting();
        }

        /// <summary>A pass begins at the root, in <paramref name="root"/>.</summary>
        public void BeginPass(SafeFdHandle root)
        {
            _visits.Clear();
            Entered(root);
        }

        /// <summary>The pass stepped into <paramref name="dir"/>.</summary>
        public void Entered(SafeFdHandle dir) => _visits.Push(new Visit(SizeOf(dir)));

        /// <summary>The pass came back up into <paramref name="dir"/>, after emptying one of its directories.</summary>
        public void Ascended(SafeFdHandle dir)
        {
            _visits.Pop();
            Check(dir, _visits.Peek());
        }

        /// <summary>An entry of <paramref name="dir"/>, the directory the pass is in, was removed.</summary>
        public void Count(SafeFdHandle dir)
        {
            if (++Removed % ProgressEvery == 0)
                LogRemovalProgress(logger, path, Removed);
            var visit = _visits.Peek();
            if (++visit.Removed % GrowthCheckEvery == 0)
                Check(dir, visit);
            if (_races > 0 && Stopwatch.GetElapsedTime(_firstRace) > RacingTimeLimit)
                throw KeepsWriting();
        }

        private void Check(SafeFdHandle dir, Visit visit)
        {
            ulong size = SizeOf(dir);
            if (size <= visit.Size && (ulong)visit.Removed * 2 <= visit.Size)
                return;
            // Names were created in it since the pass entered it; from here on, only newer ones show the writer.
            visit.Size = size;
            visit.Removed = 0;
            Race();
        }

        private ulong SizeOf(SafeFdHandle dir) => Libc.FStatx(dir, path).Size;

        private DirectoryInUseException KeepsWriting() =>
            new($"{path} cannot be removed yet: something keeps writing into it ({Removed} entries removed so far, {_races} races lost to the writer)");

        public void Finish()
        {
            if (Removed >= ProgressEvery)
                LogRemovalDone(logger, path, Removed);
        }

        /// <summary>A directory of the pass: its size when the pass entered it (or last saw it grow) and the names removed from it since.</summary>
        private sealed class Visit(ulong size)
        {
            public ulong Size = size;
            public long Removed;
        }
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "Removing {Path}: {Entries} entries removed so far")]
    private static partial void LogRemovalProgress(ILogger logger, string path, long entries);

    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "Removed {Path}: {Entries} entries")]
    private static partial void LogRemovalDone(ILogger logger, string path, long entries);
}
