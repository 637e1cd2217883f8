using CsiHostPath.Options;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>
/// What a new volume can still get on this node: the data dir's free bytes, less what image volumes were
/// promised but have not written yet (their sparse files grow into it), unless overcommit is allowed, and less what
/// copies in flight (snapshots, restores, clones) have claimed; and none at all of a kind this node cannot make.
/// </summary>
public sealed class CapacityPlanner(
    DataDirLayout layout,
    ImagePromises promises,
    FileSystemTools tools,
    IProjectQuotas quotas,
    DriverOptions options)
{
    // Check and claim are one step under this lock: two creates racing for the last bytes must not both see them free.
    private readonly Lock _lock = new();
    private long _reserved;

    public long Available()
    {
        lock (_lock)
            return Unclaimed();
    }

    /// <summary>
    /// Claims <paramref name="bytes"/> for a volume being made or grown until the returned reservation is disposed, by
    /// which time <see cref="ImagePromises"/> holds the volume at its new size and <see cref="Available"/> counts its promise from there.
    /// <paramref name="copied"/> is what a content source (snapshot, volume) will write into it: held too, where the
    /// volume's own promise does not already cover it. Throws what <paramref name="refusal"/> says, given the bytes
    /// available, when they do not fit.
    /// </summary>
    public Reservation Reserve(long bytes, Backing backing, Func<long, string> refusal, long copied = 0) =>
        // Only a promise ImagePromises will count once the volume is there is held meanwhile; a directory takes no space up front.
        Claim(Math.Max(bytes, copied), Promises(backing) ? bytes : copied, refusal);

    /// <summary>
    /// Claims <paramref name="bytes"/> that a copy (a snapshot) is about to write, until the returned reservation is
    /// disposed once they are written and the filesystem's free space counts them.
    /// </summary>
    public Reservation ReserveCopy(long bytes, Func<long, string> refusal) => Claim(bytes, bytes, refusal);

    private Reservation Claim(long needed, long held, Func<long, string> refusal)
    {
        lock (_lock)
        {
            long available = Unclaimed();
            if (needed > available)
                throw new InsufficientCapacityException(refusal(available));
            _reserved += held;
            return new Reservation(this, held);
        }
    }

    private bool Promises(Backing backing) => backing == Backing.Image && !options.AllowImageOvercommit;

    private long Unclaimed()
    {
        long free = FileSystemStats.Of(layout.Root).AvailableBytes;
        // One statfs and two counters, however many volumes the node has. Overcommit forgets promises, never copies in flight.
        return Math.Max(0, free - (options.AllowImageOvercommit ? 0 : promises.Total) - _reserved);
    }

    private void Release(long bytes)
    {
        lock (_lock)
            _reserved -= bytes;
    }

    /// <summary>
    /// Why this node cannot make a volume of this kind at all, whatever its size, or null when it can. Another node may:
    /// GetCapacity reports 0 and CreateVolume answers RESOURCE_EXHAUSTED, the one code external-provisioner reschedules on.
    /// </summary>
    public string? Inability(Backing backing, AccessType accessType, string fsType, bool quota)
    {
        if (backing == Backing.Image && !LinuxLoopDevices.IsSupported)
            return "this node cannot make backing=image volumes: it has no /dev/loop-control (loop devices)";
        if (backing == Backing.Image && accessType == AccessType.Mount && FileSystemTools.Supported.Contains(fsType) && tools.Missing(fsType) is { } missing)
            return $"this node cannot make backing=image volumes with fs_type {fsType}: {missing}";
        if (quota && quotas.Unavailable(layout.Root) is { } reason)
            return $"this node cannot honour quota: \"true\": {reason}";
        return null;
    }

    /// <summary>The smallest volume of a kind: a filesystem has a floor below which mkfs refuses.</summary>
    public static long Minimum(Backing backing, string fsType) =>
        backing == Backing.Image && fsType.Length > 0 ? FileSystemTools.MinimumBytes(fsType) : 0;

    public sealed class Reservation(CapacityPlanner owner, long bytes) : IDisposable
    {
        private long _bytes = bytes;

        public void Dispose() => owner.Release(Interlocked.Exchange(ref _bytes, 0));
    }
}
