using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using CsiHostPath.Metrics;
using CsiHostPath.Options;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>
/// What directory volumes hold, measured by walks in the background and answered from memory. kubelet asks every
/// published volume's stats once a minute; a walk per ask would cost in proportion to the files a tenant keeps
/// (hundreds of milliseconds for 200,000), so an ask only reads the last figure and, when that figure is older than
/// --usage-refresh-interval or missing, queues a walk. At most --usage-walkers walks run at once, one per volume,
/// each yielding the processor between batches so that gRPC calls are not held up behind it. A volume nobody asks
/// about, such as one no longer published, is never walked again.
/// </summary>
public sealed partial class DirectoryUsageCache(DriverOptions options, DataDirLayout layout, ILogger<DirectoryUsageCache> logger)
{
    private readonly ConcurrentDictionary<string, Figure> _figures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);
    private readonly Channel<string> _walks = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false });

    /// <summary>The last measured usage of the volume, or null before its first walk has finished; queues a walk when due.</summary>
    public Figure? Get(string volumeId)
    {
        var figure = _figures.GetValueOrDefault(volumeId);
        if ((figure is null || figure.Age > options.UsageRefreshInterval) && _queued.TryAdd(volumeId, 0))
            _walks.Writer.TryWrite(volumeId);
        return figure;
    }

    /// <summary>Bytes all measured directory volumes take, by their last walks.</summary>
    public long TotalBytes => _figures.Values.Sum(f => f.Usage.Bytes);

    /// <summary>How old the oldest figure kept is; zero when there is none.</summary>
    public TimeSpan OldestAge => _figures.Values.Select(f => f.Age).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>Drops the volume's figure: it was deleted, and a volume made later under the same id starts empty.</summary>
    public void Forget(string volumeId) => _figures.TryRemove(volumeId, out _);

    /// <summary>Runs the walkers until <paramref name="cancellationToken"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, options.UsageWalkers).Select(_ => Task.Run(() => WalkQueuedAsync(cancellationToken), CancellationToken.None)));

    private async Task WalkQueuedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (string volumeId in _walks.Reader.ReadAllAsync(cancellationToken))
            {
                Walk(volumeId);
                _queued.TryRemove(volumeId, out _);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }

    private void Walk(string volumeId)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var usage = DirectoryTree.Usage(layout.DataPath(volumeId), () => Thread.Yield());
            _figures[volumeId] = new Figure(usage, Stopwatch.GetTimestamp());
            var elapsed = Stopwatch.GetElapsedTime(start);
            DriverMeter.UsageWalkDuration.Record(elapsed.TotalSeconds);
            LogWalked(volumeId, usage.Bytes, usage.Inodes, elapsed.TotalMilliseconds);
        }
        catch (IOException e)
        {
            // Deleted meanwhile, or its directory is broken (which the volume's condition reports): nothing to count.
            _figures.TryRemove(volumeId, out _);
            LogWalkFailed(volumeId, e.Message);
        }
    }

    /// <summary>A measured usage and when the walk that measured it ended.</summary>
    public sealed record Figure(DiskUsage Usage, long MeasuredAt)
    {
        public TimeSpan Age => Stopwatch.GetElapsedTime(MeasuredAt);
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Debug,
        Message = "Measured volume {VolumeId}: {UsedBytes} bytes, {UsedInodes} inodes in {DurationMs:F1} ms")]
    private partial void LogWalked(string volumeId, long usedBytes, long usedInodes, double durationMs);

    [LoggerMessage(EventId = 701, Level = LogLevel.Debug, Message = "Could not measure volume {VolumeId}: {Reason}")]
    private partial void LogWalkFailed(string volumeId, string reason);
}
