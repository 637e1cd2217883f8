using System.Collections.Concurrent;
using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes.Backings;

/// <summary>
/// A sparse image file of exactly the volume's size on a loop device: the filesystem on it (or, for a
/// block volume, the device itself) is all the pod can fill, so the size is enforced by the kernel.
/// </summary>
public sealed partial class ImageBacking(
    DataDirLayout layout,
    ILoopDevices loops,
    IMounter mounter,
    FileSystemTools tools,
    ILogger<ImageBacking> logger) : IVolumeBacking
{
    // The new filesystem's root belongs to root with mode 0755; pods of any uid must be able to write, as with directories.
    private const UnixFileMode FileSystemRoot = (UnixFileMode)0b111_111_111;

    private readonly ConcurrentDictionary<string, string> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.Ordinal);

    public Backing Kind => Backing.Image;

    public void Provision(string stagingDir, VolumeRecord record)
    {
        string image = Path.Combine(stagingDir, DataDirLayout.ImageFileName);
        using (var file = new FileStream(image, FileMode.CreateNew, FileAccess.Write))
            file.SetLength(record.CapacityBytes);
        if (record.AccessType == AccessType.Block)
            return;
        tools.Format(image, record.FsType);
        Directory.CreateDirectory(Path.Combine(stagingDir, DataDirLayout.MountDirName));
    }

    public void Activate(VolumeRecord record)
    {
        _failures.TryRemove(record.VolumeId, out _);
        try
        {
            string image = layout.ImagePath(record.VolumeId);
            // Found again after a restart of the driver; attached anew after a reboot.
            string device = loops.Find(image) ?? loops.Attach(image);
            _devices[record.VolumeId] = device;
            if (record.AccessType == AccessType.Block)
                return;
            string mount = layout.MountPath(record.VolumeId);
            if (mounter.IsMountPoint(mount))
                return;
            // nouuid: a restored or cloned xfs carries its source's UUID, and a copy cut from a frozen, mounted xfs has
            // a log to replay, so xfs_admin cannot give it a new one; without nouuid xfs refuses to mount the twin.
            // nosuid,nodev: a setuid binary or device node one pod writes must not work for the next pod given the volume.
            mounter.Mount(device, mount, record.FsType, MountFlags.NoSuid | MountFlags.NoDev, record.FsType == "xfs" ? "nouuid" : null);
            if (new DirectoryInfo(mount).UnixFileMode != FileSystemRoot && IsFreshFileSystem(mount))
                File.SetUnixFileMode(mount, FileSystemRoot);
            LogActivated(record.VolumeId, device);
        }
        catch (IOException e)
        {
            // One damaged image must not stop the driver: the volume is reported abnormal instead.
            _failures[record.VolumeId] = $"cannot attach or mount the image: {e.Message}";
            LogActivationFailed(record.VolumeId, e.Message);
            throw;
        }
    }

    /// <summary>Only mkfs's lost+found in it: the first mount, when the root's mode is still mkfs's.</summary>
    private static bool IsFreshFileSystem(string mount) =>
        Directory.EnumerateFileSystemEntries(mount).All(e => Path.GetFileName(e) == "lost+found");

    public void Deactivate(VolumeRecord record)
    {
        string mount = layout.MountPath(record.VolumeId);
        if (record.AccessType == AccessType.Mount && mounter.IsMountPoint(mount))
        {
            try
            {
                mounter.Unmount(mount);
            }
            catch (ErrnoException e) when (e.Errno == Errno.EBUSY)
            {
                throw new VolumePreconditionException($"volume {record.VolumeId}'s filesystem is still in use: {e.Message}");
            }
        }
        _devices.TryRemove(record.VolumeId, out var device);
        device ??= loops.Find(layout.ImagePath(record.VolumeId));
        if (device is not null)
            loops.Detach(device);
        _failures.TryRemove(record.VolumeId, out _);
    }

    public SafeFdHandle OpenPublishSource(VolumeRecord record)
    {
        if (record.AccessType == AccessType.Block)
            return Libc.OpenAt(null, Device(record), Libc.O_PATH | Libc.O_NOFOLLOW);
        if (!mounter.IsMountPoint(layout.MountPath(record.VolumeId)))
            Activate(record);
        return layout.OpenMount(record.VolumeId);
    }

    public MountSource? PublishedSource(VolumeRecord record)
    {
        try
        {
            if (record.AccessType == AccessType.Block)
                return _devices.TryGetValue(record.VolumeId, out var device) ? MountSource.Of(Libc.Lstat(device)) : null;
            string mount = layout.MountPath(record.VolumeId);
            using var root = layout.OpenMount(record.VolumeId);
            var status = Libc.FStatx(root, mount);
            // Before the image is mounted the directory is only the empty mount point, which no publication shows.
            return status.IsMountRoot ? MountSource.Of(status) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public bool Grow(VolumeRecord record, long newSize)
    {
        using (var file = new FileStream(layout.ImagePath(record.VolumeId), FileMode.Open, FileAccess.Write))
        {
            if (file.Length < newSize)
                file.SetLength(newSize);
        }
        loops.Refresh(Device(record));
        return record.AccessType == AccessType.Mount;
    }

    public void GrowFileSystem(VolumeRecord record)
    {
        if (record.AccessType != AccessType.Mount)
            return;
        if (FileSystemTools.OnlineGrowthRefusal(record.FsType) is { } refusal)
            throw new VolumePreconditionException(refusal);
        tools.Grow(Device(record), layout.MountPath(record.VolumeId), record.FsType);
    }

    public long Unallocated(VolumeRecord record)
    {
        try
        {
            long allocated = (long)Libc.Lstat(layout.ImagePath(record.VolumeId)).Blocks * 512;
            return Math.Max(0, record.CapacityBytes - allocated);
        }
        catch (ErrnoException)
        {
            return 0;
        }
    }

    public string? Problem(VolumeRecord record, MountTable mounts)
    {
        if (_failures.TryGetValue(record.VolumeId, out var failure))
            return failure;
        string image = layout.ImagePath(record.VolumeId);
        if (!File.Exists(image))
            return $"the image file {image} is missing";
        if (!_devices.TryGetValue(record.VolumeId, out var device) || loops.BackingFile(device) != image)
            return $"the image {image} is not attached to a loop device";
        string mount = layout.MountPath(record.VolumeId);
        if (record.AccessType == AccessType.Mount && !mounts.IsMountPoint(mount))
            return $"the image's filesystem is not mounted at {mount}";
        return null;
    }

    public VolumeUsage Usage(VolumeRecord record)
    {
        if (record.AccessType == AccessType.Block)
            return new VolumeUsage(record.CapacityBytes, 0, 0, 0, 0, 0);
        var fs = FileSystemStats.Of(layout.MountPath(record.VolumeId));
        return new VolumeUsage(
            fs.TotalBytes, fs.TotalBytes - fs.FreeBytes, fs.AvailableBytes,
            fs.TotalInodes, fs.TotalInodes - fs.FreeInodes, fs.FreeInodes);
    }

    private string Device(VolumeRecord record) =>
        _devices.TryGetValue(record.VolumeId, out var device) ? device
        : loops.Find(layout.ImagePath(record.VolumeId))
          ?? throw new VolumePreconditionException($"volume {record.VolumeId}'s image is not attached to a loop device");

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Volume {VolumeId}'s image is attached to {Device} and mounted")]
    private partial void LogActivated(string volumeId, string device);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Volume {VolumeId}'s image cannot be used: {Reason}")]
    private partial void LogActivationFailed(string volumeId, string reason);
}
