using CsiHostPath.Interop;
using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>
/// Start-up: rebuilds the index from disk, re-establishes image volumes' loop devices and mounts, and
/// reconciles recorded publications with the kernel's mount table.
/// </summary>
public sealed partial class VolumeRecovery(
    IVolumeStore store,
    VolumeIndex index,
    IMounter mounter,
    VolumeBackings backings,
    VolumeMounts volumeMounts,
    IProjectQuotas quotas,
    DataDirLayout layout,
    LaggingRecords lagging,
    ILogger<VolumeRecovery> logger)
{
    public void Run()
    {
        store.Initialize();
        var records = store.LoadAll().ToList();
        // Activated first, each backing for all its volumes at once: a publication is checked against what its volume shows.
        foreach (var kind in records.Where(r => r.Damage is null).GroupBy(r => r.Backing))
            backings.For(kind.Key).Recover([.. kind]);
        foreach (var record in records)
        {
            var current = WithoutStalePublications(record);
            // A full or read-only data dir must not stop the driver (after a reboot every publication is stale, and a
            // driver that exits here would crash-loop): the index serves the corrected record, written again later.
            if (!ReferenceEquals(current, record))
                lagging.Write(current);
            index.Put(current);
        }
        LogRecovered(index.Count);
        if (quotas.Unavailable(layout.Root) is { } reason)
            LogQuotasUnavailable(reason);
        else
            LogQuotasAvailable(layout.Root);
    }

    /// <summary>
    /// Drops publications recorded before mounting and never acknowledged, or unmounted while the driver was down
    /// (a node reboot): kubelet publishes again if a pod still needs them. Each target is asked whether it shows
    /// this volume by statx through the recorded path, never by comparing that path with mountinfo's resolved
    /// strings, which differ when kubelet's dir is a symlink or the driver runs in a new mount namespace.
    /// </summary>
    private VolumeRecord WithoutStalePublications(VolumeRecord record)
    {
        if (record.Damage is not null || record.Publications.Count == 0)
            return record;
        var source = volumeMounts.SourceOf(record);
        var current = record;
        foreach (var publication in record.Publications)
        {
            MountedRoot? mounted;
            try
            {
                mounted = mounter.MountedAt(publication.TargetPath);
            }
            catch (ErrnoException e) when (e.Errno == Errno.EIO)
            {
                // Mounted, and the filesystem under it has failed: kept, and the volume is reported abnormal.
                continue;
            }
            // While the volume's own storage cannot be reached (an image that failed to mount) a mount at the target
            // may still be its: kept, so that DeleteVolume cannot remove what a pod may be using.
            bool stale = mounted is null || (source is { } own && mounted.Value.Source != own);
            if (!stale)
                continue;
            LogStalePublication(record.VolumeId, publication.TargetPath);
            current = current.WithoutPublication(publication.TargetPath);
        }
        return current;
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Dropping publication of {VolumeId} at {TargetPath}: the volume is not mounted there")]
    private partial void LogStalePublication(string volumeId, string targetPath);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Loaded {VolumeCount} volumes")]
    private partial void LogRecovered(int volumeCount);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Project quotas available on {DataDir}: quota: \"true\" directory volumes get a hard limit")]
    private partial void LogQuotasAvailable(string dataDir);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "StorageClass parameter quota: \"true\" is unavailable: {Reason}")]
    private partial void LogQuotasUnavailable(string reason);
}
