using CsiHostPath.Interop;
using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>The node's volume rules: bind-mount volumes into pods' target paths, take them away again, measure and grow them.</summary>
public sealed partial class VolumePublisher(
    IVolumeStore store,
    VolumeIndex index,
    VolumeLocks locks,
    IMounter mounter,
    VolumeBackings backings,
    VolumeHealth health,
    ILogger<VolumePublisher> logger)
{
    public void Publish(string volumeId, string targetPath, VolumeAccess access, bool readOnly)
    {
        using var lease = locks.Acquire(volumeId);
        var record = Usable(volumeId);
        if (VolumeAccessPolicy.Refusal(record, access) is { } refusal)
            throw new VolumePreconditionException(refusal);

        if (record.FindPublication(targetPath) is { } existing)
        {
            if (!existing.Matches(readOnly, access))
                throw new VolumeConflictException(
                    $"volume {volumeId} is already published at {targetPath} with readonly={existing.ReadOnly}, access mode {existing.AccessMode}");
            if (mounter.IsMountPoint(targetPath))
                return;
            // The record says published but the mount is gone (a restart or an outside unmount): mount again.
        }
        else if (record.Publications.Count > 0 && !VolumeAccessPolicy.AllowsSeveralTargets(access.AccessMode))
        {
            throw new VolumePreconditionException(
                $"volume {volumeId} is already published at {record.Publications[0].TargetPath} and access mode {access.AccessMode} allows one target only");
        }
        else if (mounter.IsMountPoint(targetPath))
        {
            throw new VolumePreconditionException($"target_path {targetPath} already has something else mounted on it");
        }

        // The publication is recorded before the mount is made, so a crash can leave a record without a
        // mount (dropped at start-up) but never a mount the driver does not know of. No fsync: a machine
        // crash that could lose the record takes the mount with it.
        var published = record.WithPublication(new Publication(targetPath, readOnly, access.AccessMode, access.MountFlags));
        store.Update(published, durable: false);
        index.Put(published);
        bool createdTarget = false;
        try
        {
            createdTarget = PublishTarget.Ensure(targetPath, record.AccessType);
            using var source = backings.For(record).OpenPublishSource(record);
            mounter.BindMount(source, targetPath, VolumeAccessPolicy.ToMountFlags(access.MountFlags, readOnly));
        }
        catch
        {
            if (createdTarget)
                RemoveTarget(targetPath);
            store.Update(record, durable: false);
            index.Put(record);
            throw;
        }
        LogPublished(volumeId, targetPath, readOnly);
    }

    public void Unpublish(string volumeId, string targetPath)
    {
        using var lease = locks.Acquire(volumeId);
        var record = index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);
        if (record.FindPublication(targetPath) is null)
        {
            // Never published there, or already unpublished: whatever is at that path is not this volume's to undo.
            LogNothingToUnpublish(volumeId, targetPath);
            return;
        }
        try
        {
            // A target can carry the same bind more than once if an earlier publish was interrupted; take them all off.
            while (mounter.Unmount(targetPath))
            {
            }
        }
        catch (ErrnoException e) when (e.Errno == Errno.EBUSY)
        {
            throw new VolumePreconditionException($"target_path {targetPath} is busy and cannot be unmounted yet: {e.Message}");
        }
        RemoveTarget(targetPath);
        var unpublished = record.WithoutPublication(targetPath);
        store.Update(unpublished, durable: false);
        index.Put(unpublished);
        LogUnpublished(volumeId, targetPath);
    }

    public (VolumeUsage Usage, VolumeCondition Condition) Stats(string volumeId, string volumePath)
    {
        var record = Usable(volumeId);
        volumePath = volumePath.Length > 1 ? volumePath.TrimEnd('/') : volumePath;
        if (record.FindPublication(volumePath) is null || !Path.Exists(volumePath))
            throw new VolumeNotFoundException(volumeId, $"it is not published at volume_path {volumePath}");
        return (backings.For(record).Usage(record, volumePath), health.Check(record));
    }

    /// <summary>NodeExpandVolume: grows the filesystem of a published volume to the size the controller gave it.</summary>
    public long ExpandFileSystem(string volumeId, string volumePath, CapacityRange range, VolumeAccess? access)
    {
        using var lease = locks.Acquire(volumeId);
        var record = Usable(volumeId);
        // On the Expand RPCs the spec's "exceeds capabilities" is INVALID_ARGUMENT, unlike NodePublishVolume's FAILED_PRECONDITION.
        if (access is not null && VolumeAccessPolicy.Refusal(record, access) is { } refusal)
            throw new InvalidVolumeArgumentException("volume_capability", refusal);
        volumePath = volumePath.Length > 1 ? volumePath.TrimEnd('/') : volumePath;
        if (record.FindPublication(volumePath) is null)
            throw new VolumeNotFoundException(volumeId, $"it is not published at volume_path {volumePath}");
        if (range.LimitBytes > 0 && range.LimitBytes < record.CapacityBytes)
            throw new CapacityOutOfRangeException($"volume {volumeId} has {record.CapacityBytes} bytes, more than the limit of {range.LimitBytes}");
        if (range.RequiredBytes > record.CapacityBytes)
            throw new CapacityOutOfRangeException(
                $"volume {volumeId} has {record.CapacityBytes} bytes; ControllerExpandVolume must grow it to {range.RequiredBytes} first");
        backings.For(record).GrowFileSystem(record);
        LogFileSystemExpanded(volumeId, record.CapacityBytes);
        return record.CapacityBytes;
    }

    private VolumeRecord Usable(string volumeId)
    {
        var record = index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);
        return record.Damage is null ? record : throw new VolumePreconditionException($"volume {volumeId} is damaged: {record.Damage}");
    }

    private void RemoveTarget(string path)
    {
        try
        {
            PublishTarget.Remove(path);
        }
        catch (IOException e)
        {
            // Leaving an empty target behind is harmless; kubelet removes the pod directory anyway.
            LogTargetNotRemoved(path, e.Message);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Published volume {VolumeId} at {TargetPath} (readonly={ReadOnly})")]
    private partial void LogPublished(string volumeId, string targetPath, bool readOnly);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Unpublished volume {VolumeId} from {TargetPath}")]
    private partial void LogUnpublished(string volumeId, string targetPath);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Could not remove target {TargetPath}: {Reason}")]
    private partial void LogTargetNotRemoved(string targetPath, string reason);

    [LoggerMessage(EventId = 304, Level = LogLevel.Debug, Message = "Volume {VolumeId} is not published at {TargetPath}; nothing to unpublish")]
    private partial void LogNothingToUnpublish(string volumeId, string targetPath);

    [LoggerMessage(EventId = 303, Level = LogLevel.Debug, Message = "Grew the filesystem of volume {VolumeId} to {CapacityBytes} bytes")]
    private partial void LogFileSystemExpanded(string volumeId, long capacityBytes);
}
