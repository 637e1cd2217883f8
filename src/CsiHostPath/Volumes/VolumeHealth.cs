using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>Checks a volume against the disk and the mount table; never throws, it reports.</summary>
public sealed class VolumeHealth(DataDirLayout layout, IMounter mounter)
{
    public VolumeCondition Check(VolumeRecord record)
    {
        if (record.Damage is not null)
            return new VolumeCondition(true, record.Damage);
        try
        {
            using var _ = layout.OpenData(record.VolumeId);
        }
        catch (IOException e)
        {
            return new VolumeCondition(true, $"the volume's directory {layout.DataPath(record.VolumeId)} is missing, not a directory or a symlink: {e.Message}");
        }
        if (record.Publications.Count > 0)
        {
            var mounts = mounter.ListMounts().Select(m => m.MountPoint).ToHashSet(StringComparer.Ordinal);
            var lost = record.Publications.FirstOrDefault(p => !mounts.Contains(p.TargetPath));
            if (lost is not null)
                return new VolumeCondition(true, $"the volume is no longer mounted at {lost.TargetPath}");
        }
        return VolumeCondition.Healthy;
    }
}
