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
    IProjectQuotas quotas,
    DataDirLayout layout,
    ILogger<VolumeRecovery> logger)
{
    public void Run()
    {
        store.Initialize();
        var mounted = new MountTable(mounter.ListMounts());
        foreach (var record in store.LoadAll())
        {
            var current = record;
            foreach (var publication in record.Publications.Where(p => !mounted.IsMountPoint(p.TargetPath)))
            {
                // Recorded before mounting and never acknowledged, or unmounted while the driver was down
                // (a node reboot): either way kubelet publishes again if a pod still needs it.
                LogStalePublication(record.VolumeId, publication.TargetPath);
                current = current.WithoutPublication(publication.TargetPath);
            }
            if (!ReferenceEquals(current, record))
                store.Update(current, durable: false);
            if (current.Damage is null)
                Activate(current);
            index.Put(current);
        }
        LogRecovered(index.Count);
        if (quotas.Unavailable(layout.Root) is { } reason)
            LogQuotasUnavailable(reason);
        else
            LogQuotasAvailable(layout.Root);
    }

    private void Activate(VolumeRecord record)
    {
        try
        {
            backings.For(record).Activate(record);
        }
        catch (IOException)
        {
            // The backing has logged it and reports the volume abnormal; the other volumes carry on.
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Dropping publication of {VolumeId} at {TargetPath}: nothing is mounted there")]
    private partial void LogStalePublication(string volumeId, string targetPath);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Loaded {VolumeCount} volumes")]
    private partial void LogRecovered(int volumeCount);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Project quotas available on {DataDir}: quota: \"true\" directory volumes get a hard limit")]
    private partial void LogQuotasAvailable(string dataDir);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "StorageClass parameter quota: \"true\" is unavailable: {Reason}")]
    private partial void LogQuotasUnavailable(string reason);
}
