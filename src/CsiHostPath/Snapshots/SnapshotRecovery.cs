using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// Start-up, after the volumes: reloads snapshots and group snapshots, removes the members of a group snapshot that was
/// never completed, and thaws any image volume's filesystem that a driver killed mid-snapshot left frozen.
/// </summary>
public sealed partial class SnapshotRecovery(
    SnapshotStore store,
    SnapshotIndex index,
    GroupSnapshotStore groupStore,
    GroupSnapshotIndex groups,
    VolumeIndex volumes,
    VolumeContent content,
    ILogger<SnapshotRecovery> logger)
{
    public void Run()
    {
        foreach (var volume in volumes.All().Where(v => v.Damage is null))
        {
            try
            {
                content.ThawIfFrozen(volume);
            }
            catch (IOException e)
            {
                LogThawFailed(volume.VolumeId, e.Message);
            }
        }
        store.Initialize();
        groupStore.Initialize();
        foreach (var group in groupStore.LoadAll())
            groups.Put(group);
        foreach (var snapshot in store.LoadAll())
        {
            if (snapshot.GroupSnapshotId.Length > 0 && groups.Find(snapshot.GroupSnapshotId) is null)
            {
                LogOrphanMember(snapshot.SnapshotId, snapshot.GroupSnapshotId);
                store.Delete(snapshot.SnapshotId);
                continue;
            }
            index.Put(snapshot);
        }
        LogRecovered(index.Count, groups.Count);
    }

    [LoggerMessage(EventId = 1220, Level = LogLevel.Information, Message = "Loaded {SnapshotCount} snapshots and {GroupSnapshotCount} group snapshots")]
    private partial void LogRecovered(int snapshotCount, int groupSnapshotCount);

    [LoggerMessage(EventId = 1221, Level = LogLevel.Warning, Message = "Removing snapshot {SnapshotId}: its group snapshot {GroupSnapshotId} was never completed")]
    private partial void LogOrphanMember(string snapshotId, string groupSnapshotId);

    [LoggerMessage(EventId = 1222, Level = LogLevel.Error, Message = "Cannot thaw the filesystem of volume {VolumeId}: {Reason}")]
    private partial void LogThawFailed(string volumeId, string reason);
}
