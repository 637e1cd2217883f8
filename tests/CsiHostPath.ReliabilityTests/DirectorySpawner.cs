using CsiHostPath.ReliabilityTests.Infrastructure;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// A tenant thread working by descriptor inside its volume, as a pod's process with its cwd there would, that creates
/// names faster than the driver removes them: once it sees the delete begin (its directory moved into the data dir's
/// .trash), it makes <see cref="PerRemoved"/> new empty directories for every one the driver removes, counted from the
/// directory's link count, until it is stopped or has made <see cref="MaxCreated"/>. It only ever adds new names to
/// the one directory: the driver never finds a directory it emptied full again, and its pass, in the filesystem's
/// hash order, does not come to an end while the directory keeps growing.
/// </summary>
internal sealed class DirectorySpawner : IDisposable
{
    public const int PerRemoved = 10;

    // Below ext4's 65,000 subdirectories, past which a directory's link count stops counting them.
    public const int MaxCreated = 50_000;

    private readonly int _dir;
    private readonly int _initial;
    private readonly Thread _thread;
    private volatile bool _stop;
    private volatile bool _deleteSeen;
    private long _created;

    /// <summary>Makes <paramref name="initial"/> empty directories in <paramref name="volumeData"/>, then starts watching for the delete.</summary>
    public DirectorySpawner(string volumeData, int initial)
    {
        for (int i = 0; i < initial; i++)
            Directory.CreateDirectory(Path.Combine(volumeData, $"s-{i}"));
        _dir = Native.OpenDirectory(volumeData);
        _initial = initial;
        _thread = new Thread(Run) { IsBackground = true, Name = "tenant-spawner" };
        _thread.Start();
    }

    /// <summary>Whether the thread saw its directory moved into .trash, the delete's first step.</summary>
    public bool DeleteSeen => _deleteSeen;

    /// <summary>Directories made since the delete began.</summary>
    public long Created => Interlocked.Read(ref _created);

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        Native.Close(_dir);
    }

    private void Run()
    {
        string descriptor = $"/proc/self/fd/{_dir}";
        while (!_stop)
        {
            string? where = new FileInfo(descriptor).LinkTarget;
            if (where is null || where.EndsWith(" (deleted)", StringComparison.Ordinal))
                return;
            if (where.Contains("/.trash/", StringComparison.Ordinal))
                break;
            Thread.Yield();
        }
        _deleteSeen = true;
        while (!_stop && _created < MaxCreated)
        {
            long present = Native.LinkCount(_dir) - 2;
            long removed = _initial + _created - present;
            if (present < 0 || _created >= removed * PerRemoved)
            {
                Thread.Yield();
                continue;
            }
            // ENOENT: the driver removed the directory itself; nothing more can be made in it.
            if (Native.MkDirAt(_dir, Native.Z($"s-{_initial + _created}")) != 0)
                return;
            Interlocked.Increment(ref _created);
        }
    }
}
