using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>The node's volume rules: bind-mount volumes into pods' target paths and take them away again.</summary>
public sealed partial class VolumePublisher(
    IVolumeStore store,
    VolumeIndex index,
    VolumeLocks locks,
    IMounter mounter,
    DataDirLayout layout,
    VolumeHealth health,
    ILogger<VolumePublisher> logger)
{
    public void Publish(string volumeId, string targetPath, VolumeAccess access, bool readOnly)
    {
        if (VolumeAccessPolicy.Refusal(access) is { } refusal)
            throw new VolumePreconditionException(refusal);
        using var lease = locks.Acquire(volumeId);
        var record = FindUsable(volumeId);

        if (record.FindPublication(targetPath) is { } existing)
        {
            if (!existing.Matches(readOnly, access))
                throw new VolumeConflictException(
                    $"volume {volumeId} is already published at {targetPath} with readonly={existing.ReadOnly}, access mode {existing.AccessMode}");
            if (mounter.FindMount(targetPath) is not null)
                return;
            // The record says published but the mount is gone (a restart or an outside unmount): mount again.
        }
        else if (record.Publications.Count > 0 && !VolumeAccessPolicy.AllowsSeveralTargets(access.AccessMode))
        {
            throw new VolumePreconditionException(
                $"volume {volumeId} is already published at {record.Publications[0].TargetPath} and access mode {access.AccessMode} allows one target only");
        }
        else if (mounter.FindMount(targetPath) is not null)
        {
            throw new VolumePreconditionException($"target_path {targetPath} already has something else mounted on it");
        }

        // The publication is recorded before the mount is made, so a crash can leave a record without a
        // mount (dropped at start-up) but never a mount the driver does not know of.
        var published = record.WithPublication(new Publication(targetPath, readOnly, access.AccessMode, access.MountFlags));
        store.Update(published);
        index.Put(published);
        bool createdTarget = false;
        try
        {
            createdTarget = EnsureTargetDirectory(targetPath);
            using var source = layout.OpenData(volumeId);
            mounter.BindMount(source, targetPath, VolumeAccessPolicy.ToMountFlags(access.MountFlags, readOnly));
        }
        catch
        {
            if (createdTarget)
                TryRemoveEmptyDirectory(targetPath);
            store.Update(record);
            index.Put(record);
            throw;
        }
        LogPublished(volumeId, targetPath, readOnly);
    }

    public void Unpublish(string volumeId, string targetPath)
    {
        using var lease = locks.Acquire(volumeId);
        var record = index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);
        try
        {
            // A target can carry the same bind more than once if an earlier publish was interrupted; take them all off.
            while (mounter.FindMount(targetPath) is not null && mounter.Unmount(targetPath))
            {
            }
        }
        catch (ErrnoException e) when (e.Errno == Errno.EBUSY)
        {
            throw new VolumePreconditionException($"target_path {targetPath} is busy and cannot be unmounted yet: {e.Message}");
        }
        TryRemoveEmptyDirectory(targetPath);
        if (record.FindPublication(targetPath) is not null)
        {
            var unpublished = record.WithoutPublication(targetPath);
            store.Update(unpublished);
            index.Put(unpublished);
        }
        LogUnpublished(volumeId, targetPath);
    }

    public VolumeUsage Stats(string volumeId, string volumePath)
    {
        var record = FindUsable(volumeId);
        if (record.FindPublication(volumePath) is null || !Directory.Exists(volumePath))
            throw new VolumeNotFoundException(volumeId, $"it is not published at volume_path {volumePath}");
        var condition = health.Check(record);
        var (usedBytes, usedInodes) = DirectoryTree.Usage(volumePath);
        var fs = FileSystemStats.Of(volumePath);
        long available = Math.Max(0, Math.Min(record.CapacityBytes - usedBytes, fs.AvailableBytes));
        return new VolumeUsage(
            record.CapacityBytes, usedBytes, available,
            fs.TotalInodes, usedInodes, fs.FreeInodes,
            condition);
    }

    private VolumeRecord FindUsable(string volumeId)
    {
        var record = index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);
        return record.Damage is null ? record : throw new VolumePreconditionException($"volume {volumeId} is damaged: {record.Damage}");
    }

    /// <summary>Creates the target (kubelet normally has made its parent); false if it was already there.</summary>
    private static bool EnsureTargetDirectory(string targetPath)
    {
        var info = new DirectoryInfo(targetPath);
        if (info.Exists)
        {
            if (info.LinkTarget is not null)
                throw new InvalidVolumeArgumentException("target_path", $"{targetPath} is a symlink");
            return false;
        }
        if (File.Exists(targetPath))
            throw new InvalidVolumeArgumentException("target_path", $"{targetPath} exists and is not a directory");
        Directory.CreateDirectory(targetPath);
        return true;
    }

    private void TryRemoveEmptyDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
                Directory.Delete(path);
        }
        catch (IOException e)
        {
            // Leaving an empty directory behind is harmless; kubelet removes the pod directory anyway.
            LogTargetNotRemoved(path, e.Message);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Published volume {VolumeId} at {TargetPath} (readonly={ReadOnly})")]
    private partial void LogPublished(string volumeId, string targetPath, bool readOnly);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Unpublished volume {VolumeId} from {TargetPath}")]
    private partial void LogUnpublished(string volumeId, string targetPath);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Could not remove target {TargetPath}: {Reason}")]
    private partial void LogTargetNotRemoved(string targetPath, string reason);
}
