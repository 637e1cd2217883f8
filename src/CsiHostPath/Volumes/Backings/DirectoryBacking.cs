using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes.Backings;

/// <summary>A plain directory: nothing to attach; the size is recorded and reported, and enforced only by a project quota when asked for.</summary>
public sealed class DirectoryBacking(DataDirLayout layout, IProjectQuotas quotas) : IVolumeBacking
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

    public void Deactivate(VolumeRecord record)
    {
    }

    public SafeFdHandle OpenPublishSource(VolumeRecord record) => layout.OpenData(record.VolumeId);

    public bool Grow(VolumeRecord record, long newSize)
    {
        if (record.ProjectId != 0)
            quotas.Limit(layout.DataPath(record.VolumeId), record.ProjectId, newSize);
        return false;
    }

    public void GrowFileSystem(VolumeRecord record)
    {
    }

    public long Unallocated(VolumeRecord record) => 0;

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

    public VolumeUsage Usage(VolumeRecord record, string volumePath)
    {
        var (usedBytes, usedInodes) = DirectoryTree.Usage(volumePath);
        var fs = FileSystemStats.Of(volumePath);
        long available = Math.Max(0, Math.Min(record.CapacityBytes - usedBytes, fs.AvailableBytes));
        return new VolumeUsage(record.CapacityBytes, usedBytes, available, fs.TotalInodes, usedInodes, fs.FreeInodes);
    }
}
