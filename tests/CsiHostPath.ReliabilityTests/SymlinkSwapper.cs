using CsiHostPath.ReliabilityTests.Infrastructure;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// A tenant thread working by descriptor inside a volume, as a pod's process with its cwd there would: it keeps
/// replacing "victim" by a symlink to the canary and back, and moves "victim/sub" up and down a level, so that
/// a remover that resolved a path a moment ago finds something else there now. It swaps until it sees the delete
/// begin (its directory moved into the data dir's .trash, or what the test says the driver is doing), then a burst more
/// while the driver works on it: the race lands on the removal (or copy) itself, not on whatever the driver did before
/// it. <see cref="Landed"/> counts those swaps.
/// </summary>
internal sealed class SymlinkSwapper : IDisposable
{
    /// <summary>Swaps once the delete has begun; the burst also ends when the directory is gone.</summary>
    public const long Burst = 50;

    private readonly int _dir;
    private readonly string _canary;
    private readonly Thread _thread;
    private readonly Func<string, bool> _racing;
    private volatile bool _stop;
    private long _swaps;
    private long _landed;

    /// <summary>
    /// <paramref name="racing"/> says, given where the volume's directory now is, whether the driver is at work on it:
    /// by default, removing it (moved into .trash).
    /// </summary>
    public SymlinkSwapper(string volumeData, string canary, Func<string, bool>? racing = null)
    {
        _dir = Native.OpenDirectory(volumeData);
        _canary = canary;
        _racing = racing ?? (where => where.Contains("/.trash/", StringComparison.Ordinal));
        _thread = new Thread(Run) { IsBackground = true, Name = "tenant-swapper" };
        _thread.Start();
    }

    /// <summary>Spins until the thread is swapping, so the delete that follows races it.</summary>
    public void WaitForFirstSwap()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Interlocked.Read(ref _swaps) == 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the swapper thread never swapped");
            Thread.Yield();
        }
    }

    /// <summary>Swaps made while the driver was at work on the directory (by default: after it moved it into .trash, before it was gone).</summary>
    public long Landed => Interlocked.Read(ref _landed);

    /// <summary>Stops the thread; returns how many swaps it made.</summary>
    public long Stop()
    {
        _stop = true;
        _thread.Join();
        return Interlocked.Read(ref _swaps);
    }

    public void Dispose()
    {
        if (!_stop)
            Stop();
        Native.Close(_dir);
    }

    private void Run()
    {
        var victim = Native.Z("victim");
        var sub = Native.Z("victim/sub");
        var subFile = Native.Z("victim/sub/f");
        var moved = Native.Z("moved");
        string descriptor = $"/proc/self/fd/{_dir}";
        for (long i = 0; !_stop && _landed < Burst; i++)
        {
            string? where = new FileInfo(descriptor).LinkTarget;
            if (where is null || where.EndsWith(" (deleted)", StringComparison.Ordinal))
                return;
            bool racing = _racing(where);
            var old = Native.Z($"old-{i}");
            // The directory goes away and a symlink to the canary takes its name...
            _ = Native.RenameAt(_dir, victim, old);
            _ = Native.SymlinkAt(_canary, _dir, victim);
            _ = Native.SymlinkAt(_canary, _dir, Native.Z($"old-{i}/sub/canary"));
            Interlocked.Increment(ref _swaps);
            if (racing)
                Interlocked.Increment(ref _landed);
            // ...then a directory again, with a subdirectory that moves up and back down a level.
            _ = Native.UnlinkAt(_dir, victim, 0);
            _ = Native.MkDirAt(_dir, victim);
            _ = Native.MkDirAt(_dir, sub);
            int fd = Native.OpenAt(_dir, subFile, Native.O_WRONLY | Native.O_CREAT, 0b110_100_100);
            if (fd >= 0)
                Native.Close(fd);
            _ = Native.RenameAt(_dir, sub, moved);
            _ = Native.RenameAt(_dir, moved, sub);
        }
    }
}
