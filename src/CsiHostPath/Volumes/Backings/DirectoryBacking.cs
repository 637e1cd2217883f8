using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes.Backings;

/// <summary>A plain directory: nothing to attach; the size is recorded and reported, and enforced only by a project quota when asked for.</summary>
public sealed class DirectoryBacking(DataDirLayout layout, IProjectQuotas quotas, DirectoryUsageCache usage) : IVolumeBacking
{
    // Pods run as any uid; fsGroup (CSIDriver fsGroupPolicy: File) narrows this when the pod sets one.
    private const UnixFileMode VolumeDataDir = (UnixFileMode)0b111_111_111;

    public Backing Kind => Backing.Directory;

    public void Provision(string stagingDir, VolumeRecord record)
    {
        string data = Path.Combine(stagingDir, DataDirLayout.DataDirName);
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, VolumeDataDir);
        if (record.ProjectId != 0)
            quotas.Limit(data, record.ProjectId, record.CapacityBytes);
    }

    public void Activate(VolumeRecord record)
    {
    }

    public void Recover(IReadOnlyList<VolumeRecord> records)
    {
    }

    public void Deactivate(VolumeRecord record) => usage.Forget(record.VolumeId);

    public SafeFdHandle OpenPublishSource(VolumeRecord record, Publication publication) => layout.OpenData(record.VolumeId);

    public MountSource? PublishedSource(VolumeRecord record)
    {
        try
        {
            using var data = layout.OpenData(record.VolumeId);
            return MountSource.Of(data, layout.DataPath(record.VolumeId));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public string? GrowthRefusal(VolumeRecord record) => null;

    public bool Grow(VolumeRecord record, long newSize)
    {
        if (record.ProjectId != 0)
            quotas.Limit(layout.DataPath(record.VolumeId), record.ProjectId, newSize);
        return false;
    }

    public void GrowFileSystem(VolumeRecord record)
    {
    }

    public string? Problem(VolumeRecord record, MountTable mounts)
    {
        try
        {
            using var _ = layout.OpenData(record.VolumeId);
            return null;
        }
        catch (IOException e)
        {
            return $"the volume's directory {layout.DataPath(record.VolumeId)} is missing, not a directory or a symlink: {e.Message}";
        }
    }

    /// <summary>
    /// From the project quota when the volume has one (exact, no walk); otherwise the last background walk's figure,
    /// which is zero used until the first walk of the volume has finished.
    /// </summary>
    public VolumeUsage Usage(VolumeRecord record)
    {
        var used = record.ProjectId != 0
            ? quotas.Usage(layout.DataPath(record.VolumeId), record.ProjectId)
            : usage.Get(record.VolumeId)?.Usage ?? default;
        var fs = FileSystemStats.Of(layout.DataPath(record.VolumeId));
        long available = Math.Max(0, Math.Min(record.CapacityBytes - used.Bytes, fs.AvailableBytes));
        return new VolumeUsage(record.CapacityBytes, used.Bytes, available, fs.TotalInodes, used.Inodes, fs.FreeInodes);
    }
}
