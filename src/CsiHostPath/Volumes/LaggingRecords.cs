using System.Collections.Concurrent;

namespace CsiHostPath.Volumes;

/// <summary>
/// Records whose copy on disk lags the index because writing them failed (the data dir's filesystem full or
/// read-only, which a tenant of a directory volume can cause). An unpublish whose mount is gone must still succeed:
/// the index keeps the corrected state and the write is tried again on later calls. The disk copy can only be
/// behind by publications that no longer exist, which start-up drops anyway when nothing of the volume is mounted.
/// </summary>
public sealed partial class LaggingRecords(IVolumeStore store, VolumeIndex index, VolumeLocks locks, ILogger<LaggingRecords> logger)
{
    private readonly ConcurrentDictionary<string, byte> _lagging = new(StringComparer.Ordinal);

    /// <summary>Writes <paramref name="record"/>, the index's current state; on failure keeps it for a later try. Called under the volume's lease.</summary>
    public void Write(VolumeRecord record)
    {
        try
        {
            store.UpdatePublications(record);
            _lagging.TryRemove(record.VolumeId, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (_lagging.TryAdd(record.VolumeId, 0))
                LogLagging(record.VolumeId, e.Message);
        }
    }

    /// <summary>Writes again every record that lags, skipping volumes busy with a call (that call writes its own).</summary>
    public void Retry()
    {
        foreach (var volumeId in _lagging.Keys)
        {
            VolumeLocks.Lease lease;
            try
            {
                lease = locks.Acquire(volumeId);
            }
            catch (OperationPendingException)
            {
                continue;
            }
            using (lease)
            {
                if (index.Find(volumeId) is { Damage: null } record)
                    Write(record);
                else
                    _lagging.TryRemove(volumeId, out _);
                if (!_lagging.ContainsKey(volumeId))
                    LogCaughtUp(volumeId);
            }
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Volume {VolumeId}'s record could not be written ({Reason}); the driver keeps the current state in memory and writes it again later")]
    private partial void LogLagging(string volumeId, string reason);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "Volume {VolumeId}'s record is written again")]
    private partial void LogCaughtUp(string volumeId);
}
