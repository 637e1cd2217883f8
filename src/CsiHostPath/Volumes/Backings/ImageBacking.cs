using System.Collections.Concurrent;
using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes.Backings;

/// <summary>
/// A sparse image file of exactly the volume's size on a loop device capped at that size: the filesystem on it
/// (or, for a block volume, the device itself) is all the pod can fill, so the size is enforced by the kernel.
/// </summary>
public sealed partial class ImageBacking(
    DataDirLayout layout,
    ILoopDevices loops,
    IMounter mounter,
    FileSystemTools tools,
    ImagePromises promises,
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

    public void Activate(VolumeRecord record) => Activate(record, loops.Scan());

    public void Recover(IReadOnlyList<VolumeRecord> records)
    {
        // One scan of the loop devices serves every volume: a scan per volume made start-up volumes × devices.
        var attached = loops.Scan();
        foreach (var record in records)
        {
            try
            {
                Activate(record, attached);
            }
            catch (IOException)
            {
                // Logged, and the volume is reported abnormal; the other volumes carry on.
            }
        }
    }

    private void Activate(VolumeRecord record, ILookup<FileIdentity, string> attached)
    {
        _failures.TryRemove(record.VolumeId, out _);
        // Counted even if it cannot be attached: the image is still there and may be again after a repair.
        MeasurePromise(record);
        try
        {
            string image = layout.ImagePath(record.VolumeId);
            // Adopted after a restart of the driver or of its container, even when the image's path reads differently
            // from here than from where it was attached; attached anew after a reboot. Never a second device for one
            // image: two devices mean two filesystems writing over each other in one file.
            var found = attached[FileIdentity.OfPath(image)].ToList();
            if (found.Count > 1)
                LogSeveralDevices(record.VolumeId, string.Join(", ", found));
            string device = found.Count > 0 ? found[0] : loops.Attach(image, record.CapacityBytes);
            _devices[record.VolumeId] = device;
            bool withinRecord = FitToRecord(record, device);
            if (record.AccessType == AccessType.Mount)
            {
                string mount = layout.MountPath(record.VolumeId);
                // Mounting the adopted device again gives the same filesystem, not a second one over the same blocks.
                if (!IsMounted(mount))
                    MountFileSystem(record, device, mount, FileSystemOptions.None);
                OpenUpFreshRoot(mount);
            }
            // The kernel mounts no filesystem larger than its device, so one that is mounted now fits the record.
            if (withinRecord)
                TruncateToRecord(record);
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

    private void MountFileSystem(VolumeRecord record, string device, string mount, FileSystemOptions options)
    {
        // nouuid: a restored or cloned xfs carries its source's UUID, and a copy cut from a frozen, mounted xfs has
        // a log to replay, so xfs_admin cannot give it a new one; without nouuid xfs refuses to mount the twin.
        // nosuid,nodev: a setuid binary or device node one pod writes must not work for the next pod given the volume.
        var data = new List<string>();
        if (record.FsType == "xfs")
            data.Add("nouuid");
        data.AddRange(options.MountData());
        mounter.Mount(device, mount, record.FsType, MountFlags.NoSuid | MountFlags.NoDev, data.Count > 0 ? string.Join(',', data) : null);
    }

    /// <summary>
    /// Makes the image and its device as large as the record says: finishes an expansion cut short after its record was
    /// written. False when the device is larger than the record (attached before devices were capped): a filesystem on
    /// it may have grown past the record, so it is neither shrunk nor truncated.
    /// </summary>
    private bool FitToRecord(VolumeRecord record, string device)
    {
        long size = loops.Size(device);
        if (size > record.CapacityBytes)
        {
            LogLargerThanRecord(record.VolumeId, device, size, record.CapacityBytes);
            return false;
        }
        using (var file = new FileStream(layout.ImagePath(record.VolumeId), FileMode.Open, FileAccess.Write))
        {
            if (file.Length < record.CapacityBytes)
                file.SetLength(record.CapacityBytes);
        }
        loops.Resize(device, record.CapacityBytes);
        return true;
    }

    /// <summary>An image longer than its record (grown by an expansion whose record was never written) gives its space back.</summary>
    private void TruncateToRecord(VolumeRecord record)
    {
        using var file = new FileStream(layout.ImagePath(record.VolumeId), FileMode.Open, FileAccess.Write);
        if (file.Length > record.CapacityBytes)
        {
            LogTruncated(record.VolumeId, file.Length, record.CapacityBytes);
            file.SetLength(record.CapacityBytes);
        }
    }

    /// <summary>
    /// The root is made writable for every uid while it is still as mkfs left it, at whatever activation first finds
    /// it so: a kill between mount and chmod must not leave it 0755.
    /// </summary>
    private static void OpenUpFreshRoot(string mount)
    {
        if ((Libc.Lstat(mount).Mode & 0xFFF) != (int)FileSystemRoot && IsFreshFileSystem(mount))
            File.SetUnixFileMode(mount, FileSystemRoot);
    }

    /// <summary>Only mkfs's lost+found in it.</summary>
    private static bool IsFreshFileSystem(string mount) =>
        Directory.EnumerateFileSystemEntries(mount).All(e => Path.GetFileName(e) == "lost+found");

    /// <summary>A statx of a failed filesystem's root answers EIO: it is mounted, and broken.</summary>
    private bool IsMounted(string mount)
    {
        try
        {
            return mounter.IsMountPoint(mount);
        }
        catch (ErrnoException e) when (e.Errno == Errno.EIO)
        {
            return true;
        }
    }

    public void Deactivate(VolumeRecord record)
    {
        string mount = layout.MountPath(record.VolumeId);
        if (record.AccessType == AccessType.Mount)
        {
            try
            {
                // umount2's answer says whether something was mounted: a stat of a shut-down filesystem's root cannot.
                while (mounter.Unmount(mount))
                {
                }
            }
            catch (ErrnoException e) when (e.Errno == Errno.EBUSY)
            {
                throw new VolumePreconditionException($"volume {record.VolumeId}'s filesystem is still in use: {e.Message}");
            }
        }
        foreach (var device in DevicesOf(record))
        {
            try
            {
                loops.Detach(device);
            }
            catch (ErrnoException e) when (e.Errno == Errno.EBUSY)
            {
                throw new VolumePreconditionException(
                    $"volume {record.VolumeId}'s loop device {device} is still in use, by a process that holds it open or a mount in another mount namespace: {e.Message}");
            }
        }
        // Forgotten only once detached: a refused delete keeps the device for the next try and for publishing.
        _devices.TryRemove(record.VolumeId, out _);
        _failures.TryRemove(record.VolumeId, out _);
        promises.Remove(record.VolumeId);
    }

    /// <summary>The device this driver uses and any other attached to the same image (left by an older version).</summary>
    private IEnumerable<string> DevicesOf(VolumeRecord record)
    {
        var devices = new List<string>();
        if (_devices.TryGetValue(record.VolumeId, out var known))
            devices.Add(known);
        string image = layout.ImagePath(record.VolumeId);
        if (File.Exists(image))
            devices.AddRange(loops.Scan()[FileIdentity.OfPath(image)]);
        return devices.Distinct(StringComparer.Ordinal);
    }

    public SafeFdHandle OpenPublishSource(VolumeRecord record, Publication publication)
    {
        if (record.AccessType == AccessType.Block)
        {
            string device = Device(record);
            loops.SetReadOnly(device, publication.ReadOnly);
            return Libc.OpenAt(null, device, Libc.O_PATH | Libc.O_NOFOLLOW);
        }
        if (!IsMounted(layout.MountPath(record.VolumeId)))
            Activate(record);
        ApplyFileSystemOptions(record, publication);
        return layout.OpenMount(record.VolumeId);
    }

    /// <summary>
    /// Gives the image's filesystem the publication's own options by mounting it again while no other publication uses
    /// it: a remount would not do, since xfs ignores discard there and SELinux sets a context only at a filesystem's
    /// first mount. The kernel hands back the live filesystem, options unchanged, while a mount elsewhere still holds
    /// it, so the result is checked.
    /// </summary>
    private void ApplyFileSystemOptions(VolumeRecord record, Publication publication)
    {
        var wanted = FileSystemOptions.Of(publication.MountFlags);
        string mount = layout.MountPath(record.VolumeId);
        string current = SuperOptions(mount);
        if (wanted.ShownBy(current))
            return;
        if (record.Publications.FirstOrDefault(p => p.TargetPath != publication.TargetPath) is { } other)
            throw new VolumePreconditionException(
                $"volume {record.VolumeId}'s filesystem is mounted with {current} for its publication at {other.TargetPath}, so it cannot take {wanted}");
        if (wanted.SeLinuxContext is not null && !SeLinux.IsEnabled)
            throw new VolumePreconditionException(
                $"mount flag context=\"{wanted.SeLinuxContext}\" needs SELinux, which this node's kernel does not run (no selinuxfs in /proc/filesystems); kubelet sends it only where SELinux is enabled");
        while (mounter.Unmount(mount))
        {
        }
        MountFileSystem(record, Device(record), mount, wanted);
        LogFileSystemOptions(record.VolumeId, wanted.ToString());
        if (SuperOptions(mount) is var remounted && !wanted.ShownBy(remounted))
            throw new VolumePreconditionException(
                $"volume {record.VolumeId}'s filesystem is still mounted elsewhere with {remounted}, so it cannot take {wanted} until that mount goes");
    }

    private string SuperOptions(string mount) =>
        mounter.FindMount(mount)?.SuperOptions ?? "";

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
        catch (ErrnoException e) when (e.Errno == Errno.EIO && _devices.TryGetValue(record.VolumeId, out var device))
        {
            // Mounted, and failed: its root cannot be read, its device still names it.
            var node = Libc.Lstat(device);
            return MountSource.FailedOn(node.RdevMajor, node.RdevMinor);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public string? GrowthRefusal(VolumeRecord record) =>
        record.AccessType == AccessType.Mount && record.Publications.Count > 0 && FileSystemTools.OnlineGrowthRefusal(record.FsType) is { } refusal
            ? $"volume {record.VolumeId} is published; {refusal}; or unpublish it (stop its pods) and expand again: it is then grown offline"
            : null;

    public bool Grow(VolumeRecord record, long newSize)
    {
        // First: the record already promises the new size, and a growth that fails below is retried from that record.
        MeasurePromise(record);
        string device = Device(record);
        using (var file = new FileStream(layout.ImagePath(record.VolumeId), FileMode.Open, FileAccess.Write))
        {
            if (file.Length < newSize)
                file.SetLength(newSize);
        }
        loops.Resize(device, newSize);
        if (record.AccessType == AccessType.Block)
            return false;
        // NodeExpandVolume grows it mounted; where this process may not, it says why (new growths are refused up front).
        if (FileSystemTools.OnlineGrowthRefusal(record.FsType) is null || record.Publications.Count > 0)
            return true;
        // No pod uses it: grown unmounted, which needs no capability, and NodeExpandVolume has nothing left to do.
        string mount = layout.MountPath(record.VolumeId);
        while (mounter.Unmount(mount))
        {
        }
        tools.GrowOffline(device, record.FsType);
        MountFileSystem(record, device, mount, FileSystemOptions.None);
        return false;
    }

    public void GrowFileSystem(VolumeRecord record)
    {
        if (record.AccessType != AccessType.Mount)
            return;
        if (FileSystemTools.OnlineGrowthRefusal(record.FsType) is { } refusal)
            throw new VolumePreconditionException(refusal);
        tools.Grow(Device(record), layout.MountPath(record.VolumeId), record.FsType);
    }

    /// <summary>Bytes the record promises that the sparse image file has not allocated yet: one lstat of this volume's image.</summary>
    private void MeasurePromise(VolumeRecord record)
    {
        long unallocated;
        try
        {
            long allocated = (long)Libc.Lstat(layout.ImagePath(record.VolumeId)).Blocks * 512;
            unallocated = Math.Max(0, record.CapacityBytes - allocated);
        }
        catch (ErrnoException)
        {
            unallocated = 0;
        }
        promises.Set(record.VolumeId, unallocated);
    }

    public string? Problem(VolumeRecord record, MountTable mounts)
    {
        if (_failures.TryGetValue(record.VolumeId, out var failure))
            return failure;
        string image = layout.ImagePath(record.VolumeId);
        if (IdentityOf(image) is not { } identity)
            return $"the image file {image} is missing";
        if (!_devices.TryGetValue(record.VolumeId, out var device) || loops.Backing(device) != identity)
            return $"the image {image} is not attached to a loop device";
        if (record.AccessType == AccessType.Block)
            return null;
        string mount = layout.MountPath(record.VolumeId);
        return mounts.Find(mount) is { } mounted
            ? FileSystemHealth.Problem(mounted, device)
            : $"the image's filesystem is not mounted at {mount}";
    }

    /// <summary>Null when the image is gone: a reader takes no lease, so a DeleteVolume can remove it under the check.</summary>
    private static FileIdentity? IdentityOf(string image)
    {
        try
        {
            return FileIdentity.OfPath(image);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }
    }

    public VolumeUsage Usage(VolumeRecord record)
    {
        // kubelet's once-a-minute ask keeps the promise of a published image close to what its pod has written.
        MeasurePromise(record);
        if (record.AccessType == AccessType.Block)
            return new VolumeUsage(record.CapacityBytes, 0, 0, 0, 0, 0);
        var fs = FileSystemStats.Of(layout.MountPath(record.VolumeId));
        return new VolumeUsage(
            fs.TotalBytes, fs.TotalBytes - fs.FreeBytes, fs.AvailableBytes,
            fs.TotalInodes, fs.TotalInodes - fs.FreeInodes, fs.FreeInodes);
    }

    /// <summary>The device this driver attached the image to, checked against the image's identity; found again when unknown.</summary>
    private string Device(VolumeRecord record)
    {
        var image = FileIdentity.OfPath(layout.ImagePath(record.VolumeId));
        if (_devices.TryGetValue(record.VolumeId, out var known) && loops.Backing(known) == image)
            return known;
        string device = loops.Scan()[image].FirstOrDefault()
            ?? throw new VolumePreconditionException($"volume {record.VolumeId}'s image is not attached to a loop device");
        _devices[record.VolumeId] = device;
        return device;
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Volume {VolumeId}'s image is attached to {Device} and ready")]
    private partial void LogActivated(string volumeId, string device);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Volume {VolumeId}'s image cannot be used: {Reason}")]
    private partial void LogActivationFailed(string volumeId, string reason);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Volume {VolumeId}'s image is attached to several loop devices ({Devices}); the first is used, delete detaches them all")]
    private partial void LogSeveralDevices(string volumeId, string devices);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Volume {VolumeId}'s loop device {Device} has {DeviceBytes} bytes, more than the {CapacityBytes} recorded; left as it is")]
    private partial void LogLargerThanRecord(string volumeId, string device, long deviceBytes, long capacityBytes);

    [LoggerMessage(EventId = 505, Level = LogLevel.Information, Message = "Volume {VolumeId}'s filesystem was mounted again with {Options}")]
    private partial void LogFileSystemOptions(string volumeId, string options);

    [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "Volume {VolumeId}'s image had {FileBytes} bytes, more than the {CapacityBytes} recorded; truncated back")]
    private partial void LogTruncated(string volumeId, long fileBytes, long capacityBytes);
}
