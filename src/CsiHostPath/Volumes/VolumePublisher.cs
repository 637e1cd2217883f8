using CsiHostPath.Interop;
using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>
/// The node's volume rules: bind-mount volumes into pods' target paths, take them away again, measure and grow them.
/// A target has one owner: every call that touches one holds its lease, and acts only on a mount that shows this
/// volume's own storage (<see cref="VolumeMounts"/>). The index changes only at points where the mounts agree with
/// it, so ControllerGetVolume and ListVolumes see a publication either before it or after it.
/// </summary>
public sealed partial class VolumePublisher(
    IVolumeStore store,
    VolumeIndex index,
    VolumeLocks locks,
    IMounter mounter,
    VolumeBackings backings,
    VolumeHealth health,
    VolumeMounts volumeMounts,
    LaggingRecords lagging,
    ILogger<VolumePublisher> logger)
{
    public void Publish(string volumeId, string targetPath, VolumeAccess access, bool readOnly)
    {
        lagging.Retry();
        using var lease = locks.Acquire(volumeId);
        var record = Usable(volumeId);
        if (VolumeAccessPolicy.Refusal(record, access) is { } refusal)
            throw new VolumePreconditionException(refusal);
        using var targetLease = locks.AcquireTarget(CanonicalPath.Of(targetPath));
        try
        {
            PublishLocked(record, targetPath, access, readOnly);
        }
        catch (Exception e) when (TargetErrors.Translate(e, "target_path", targetPath) is { } translated)
        {
            throw translated;
        }
    }

    private void PublishLocked(VolumeRecord record, string targetPath, VolumeAccess access, bool readOnly)
    {
        string volumeId = record.VolumeId;
        var mounted = mounter.MountedAt(targetPath);
        var own = volumeMounts.SourceOf(record);
        bool mountedHere = mounted is { } m && own == m.Source;
        if (record.FindPublication(targetPath) is { } existing)
        {
            if (!existing.Matches(readOnly, access))
                throw new VolumeConflictException(
                    $"volume {volumeId} is already published at {targetPath} with readonly={existing.ReadOnly}, access mode {existing.AccessMode}");
            if (mountedHere)
                return;
            // The record says published but this volume's mount is gone (a restart or an outside unmount): mount again.
        }
        else if (record.Publications.FirstOrDefault(p => !VolumeAccessPolicy.AllowsSeveralTargets(p.AccessMode, access.AccessMode)) is { } other)
        {
            throw new VolumePreconditionException(
                $"volume {volumeId} is already published at {other.TargetPath} with access mode {other.AccessMode}, and access mode {access.AccessMode} is asked for a second target; only SINGLE_NODE_MULTI_WRITER on both allows several targets");
        }
        else if (record.AccessType == AccessType.Block && record.Publications.FirstOrDefault(p => p.ReadOnly != readOnly) is { } differing)
        {
            throw new VolumePreconditionException(
                $"block volume {volumeId} is published at {differing.TargetPath} with readonly={differing.ReadOnly}; its device is read-only or writable for all its targets at once, so a second target with readonly={readOnly} is refused");
        }
        else if (record.Publications.FirstOrDefault(p => FileSystemOptions.Of(p.MountFlags) != FileSystemOptions.Of(access.MountFlags)) is { } otherOptions)
        {
            throw new VolumePreconditionException(
                $"volume {volumeId} is published at {otherOptions.TargetPath} with filesystem options {FileSystemOptions.Of(otherOptions.MountFlags)}; its filesystem has one set of them for all its targets, so a second target with {FileSystemOptions.Of(access.MountFlags)} is refused");
        }
        if (mounted is { } occupant && !mountedHere)
            throw new VolumePreconditionException($"target_path {targetPath} already has something else mounted on it ({occupant.Source}), not volume {volumeId}");

        var publication = new Publication(targetPath, readOnly, access.AccessMode, access.MountFlags);
        var published = record.WithPublication(publication);
        // The publication is recorded before the mount is made, so a crash can leave a record without a
        // mount (dropped at start-up) but never a mount the driver does not know of.
        store.UpdatePublications(published);
        if (!mountedHere)
            Mount(record, publication);
        index.Put(published);
        LogPublished(volumeId, targetPath, readOnly);
    }

    private void Mount(VolumeRecord record, Publication publication)
    {
        string targetPath = publication.TargetPath;
        bool createdTarget = false;
        try
        {
            createdTarget = PublishTarget.Ensure(targetPath, record.AccessType);
            using var source = OpenSource(record, publication);
            mounter.BindMount(source, targetPath, VolumeAccessPolicy.ToMountFlags(publication.MountFlags, publication.ReadOnly));
        }
        catch (Exception e)
        {
            // Undo what this call did; a failure while undoing is logged, and the CO is told the original failure.
            if (createdTarget)
                RemoveTarget(targetPath);
            try
            {
                store.UpdatePublications(record);
            }
            catch (Exception rollback)
            {
                LogRollbackFailed(record.VolumeId, targetPath, e.Message, rollback.Message);
            }
            // Without the new mount API the flags could only be set in this namespace after the mount propagated, and
            // a read-only publication would be writable on the host: refused, never granted silently.
            if (e is ErrnoException { Errno: Errno.ENOSYS })
                throw new VolumePreconditionException(
                    $"this node's kernel cannot publish with readonly or mount flags ({e.Message}): it needs open_tree, mount_setattr and move_mount (Linux 5.12 or later) to make them hold outside the driver's mount namespace");
            throw;
        }
    }

    /// <summary>
    /// The volume's own storage, opened without following a symlink. A symlink or a file in its place (ELOOP from
    /// openat2, ENOTDIR from the O_NOFOLLOW fallback) breaks the driver's storage, which no tenant can reach: the
    /// volume is damaged, as with an unreadable record, and the request itself is right (not INVALID_ARGUMENT, nor
    /// NOT_FOUND for a target that went away).
    /// </summary>
    private SafeFdHandle OpenSource(VolumeRecord record, Publication publication)
    {
        try
        {
            return backings.For(record).OpenPublishSource(record, publication);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ELOOP or Errno.ENOTDIR or Errno.EXDEV)
        {
            throw new VolumePreconditionException(
                $"volume {record.VolumeId} is damaged: its storage is not a directory of the driver's own, and the driver follows no symlink there: {e.Message}");
        }
    }

    public void Unpublish(string volumeId, string targetPath)
    {
        lagging.Retry();
        using var lease = locks.Acquire(volumeId);
        using var targetLease = locks.AcquireTarget(CanonicalPath.Of(targetPath));
        try
        {
            if (index.Find(volumeId) is { Damage: null } record)
                UnpublishLocked(record, targetPath);
            else
                UnpublishUnknown(volumeId, targetPath);
        }
        catch (Exception e) when (TargetErrors.Translate(e, "target_path", targetPath) is { } translated)
        {
            throw translated;
        }
    }

    private void UnpublishLocked(VolumeRecord record, string targetPath)
    {
        string volumeId = record.VolumeId;
        // The index lets go first: a reader in between sees the volume unpublished and still mounted (harmless), never
        // published and unmounted. If the unmount fails the publication is put back.
        var unpublished = record.WithoutPublication(targetPath);
        index.Put(unpublished);
        try
        {
            int unmounted = UnmountOwn(volumeMounts.SourceOf(record), targetPath);
            if (unmounted == 0 && record.FindPublication(targetPath) is null)
            {
                // Never published there, or already unpublished: whatever is at that path is not this volume's to undo.
                LogNothingToUnpublish(volumeId, targetPath);
                return;
            }
            if (unmounted == 0 && mounter.MountedAt(targetPath) is { } top && StackedAt(targetPath) > 1)
            {
                // The kernel unmounts only the topmost mount at a path, and moving the other volume's mount aside would take
                // it from its pod. Answering OK would leave this volume mounted under it while the CO goes on to delete it.
                throw new VolumePreconditionException(
                    $"volume {volumeId} is published at target_path {targetPath}, and another mount ({top.Source}) is stacked over it there; unmount or unpublish that one first");
            }
        }
        catch
        {
            index.Put(record);
            throw;
        }
        if (mounter.MountedAt(targetPath) is { } occupant)
            LogLeftOtherMount(volumeId, targetPath, occupant.Source.ToString());
        else
            RemoveTarget(targetPath);
        // The mount is gone, so the unpublish has succeeded whatever happens to the record: one that cannot be written
        // now (a full or read-only data dir) is written again later.
        lagging.Write(unpublished);
        LogUnpublished(volumeId, targetPath);
    }

    /// <summary>How many mounts are stacked at <paramref name="targetPath"/>, as the mount table lists them.</summary>
    private int StackedAt(string targetPath)
    {
        string canonical = CanonicalPath.Of(targetPath);
        return mounter.ListMounts().Count(m => m.MountPoint == canonical);
    }

    /// <summary>
    /// An unpublish for a volume this driver does not know (its data dir was recreated) or cannot read. kubelet's
    /// TearDownAt (csi_mounter.go) retries any error for ever and the pod never leaves Terminating, so the answer is
    /// OK. A leftover mount at a target of kubelet's shape is taken off unless it shows another known volume.
    /// </summary>
    private void UnpublishUnknown(string volumeId, string targetPath)
    {
        if (!KubeletTargetPath.Matches(targetPath) || mounter.MountedAt(targetPath) is not { } mounted)
        {
            LogNothingToUnpublish(volumeId, targetPath);
            return;
        }
        if (index.All().FirstOrDefault(r => r.Damage is null && volumeMounts.SourceOf(r) == mounted.Source) is { } owner)
        {
            LogLeftOtherMount(volumeId, targetPath, $"volume {owner.VolumeId}");
            return;
        }
        UnmountOwn(mounted.Source, targetPath);
        if (mounter.MountedAt(targetPath) is null)
            RemoveTarget(targetPath);
        LogUnpublishedUnknown(volumeId, targetPath);
    }

    /// <summary>Unmounts every mount of <paramref name="source"/> stacked on top at the target (an interrupted publish can leave two); how many.</summary>
    private int UnmountOwn(MountSource? source, string targetPath)
    {
        int count = 0;
        while (volumeMounts.Shows(source, targetPath))
        {
            mounter.Unmount(targetPath);
            count++;
        }
        return count;
    }

    /// <summary>
    /// NodeGetVolumeStats. kubelet polls it on its own schedule, so it must never hold off an unpublish: no lease, and
    /// the walk runs over the volume's own storage, never inside the target. <paramref name="volumePath"/> is accepted
    /// where this volume is mounted: a mount volume's target, or for a block volume the bind of the device kubelet
    /// makes at <c>volumeDevices/&lt;pv&gt;/dev/&lt;pod uid&gt;</c> (csi_plugin.go NewBlockVolumeMapper).
    /// </summary>
    public (VolumeUsage Usage, VolumeCondition Condition) Stats(string volumeId, string volumePath)
    {
        var record = Usable(volumeId);
        volumePath = volumePath.Length > 1 ? volumePath.TrimEnd('/') : volumePath;
        bool mountedHere = volumeMounts.Shows(volumeMounts.SourceOf(record), volumePath);
        if (!mountedHere && (record.FindPublication(volumePath) is null || IsMissing(volumePath)))
            throw new VolumeNotFoundException(volumeId, $"it is not mounted at volume_path {volumePath}");
        try
        {
            return (backings.For(record).Usage(record), health.Check(record));
        }
        catch (IOException e) when (TargetErrors.Translate(e, "volume_path", volumePath) is TargetNotFoundException)
        {
            // Deleted while being measured, after its unpublish.
            throw new VolumeNotFoundException(volumeId, $"it went away while being measured: {e.Message}");
        }
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

    /// <summary>Only ENOENT says missing: a failed filesystem's root answers EIO and is there, abnormal.</summary>
    private static bool IsMissing(string path)
    {
        try
        {
            Libc.Lstat(path);
            return false;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return true;
        }
        catch (ErrnoException)
        {
            return false;
        }
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Unpublish of volume {VolumeId} left {TargetPath} mounted: the mount there is {Occupant}'s, not this volume's")]
    private partial void LogLeftOtherMount(string volumeId, string targetPath, string occupant);

    [LoggerMessage(EventId = 306, Level = LogLevel.Error, Message = "Publish of volume {VolumeId} at {TargetPath} failed ({Reason}) and could not be undone ({RollbackReason})")]
    private partial void LogRollbackFailed(string volumeId, string targetPath, string reason, string rollbackReason);

    [LoggerMessage(EventId = 307, Level = LogLevel.Warning, Message = "Unpublish of unknown or damaged volume {VolumeId}: took the leftover mount off {TargetPath}")]
    private partial void LogUnpublishedUnknown(string volumeId, string targetPath);
}
