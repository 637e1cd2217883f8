using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>Checks volumes against the disk and the mount table; never throws, it reports.</summary>
public sealed class VolumeHealth(VolumeBackings backings, IMounter mounter, VolumeMounts volumeMounts)
{
    /// <summary>One read of the mount table for a whole call, however many volumes it checks.</summary>
    public MountTable ReadMounts() => new(mounter.ListMounts());

    public VolumeCondition Check(VolumeRecord record) => Check(record, ReadMounts());

    public VolumeCondition Check(VolumeRecord record, MountTable mounts)
    {
        if (record.Damage is not null)
            return new VolumeCondition(true, record.Damage);
        if (backings.For(record).Problem(record, mounts) is { } problem)
            return new VolumeCondition(true, problem);
        var lost = volumeMounts.FirstLost(record);
        return lost is null ? VolumeCondition.Healthy : new VolumeCondition(true, $"the volume is no longer mounted at {lost.TargetPath}");
    }
}
