using CsiHostPath.Os;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>Checks volumes against the disk and the mount table; never throws, it reports.</summary>
public sealed class VolumeHealth(VolumeBackings backings, IMounter mounter, VolumeMounts volumeMounts, VolumeIndex index)
{
    /// <summary>One read of the mount table for a whole call, however many volumes it checks.</summary>
    public MountTable ReadMounts() => MountTable.Of(mounter.ListMounts());

    public VolumeCondition Check(VolumeRecord record) => Check(record, MountTable.PerPath(mounter));

    public VolumeCondition Check(VolumeRecord record, MountTable mounts)
    {
        if (record.Damage is not null)
            return new VolumeCondition(true, record.Damage);
        if (backings.For(record).Problem(record, mounts) is { } problem)
            return new VolumeCondition(true, problem);
        var lost = volumeMounts.FirstLost(record);
        // A reader takes no lease, so its record can be one an unpublish has just replaced before unmounting. The index
        // changes before a mount goes and after one comes, so a lost mount that the index no longer records is the
        // unpublish's, and the current record is the one to judge.
        for (int recheck = 0; lost is not null && recheck < MaxRechecks && index.Find(record.VolumeId) is { } current && !ReferenceEquals(current, record); recheck++)
        {
            record = current;
            lost = volumeMounts.FirstLost(record);
        }
        return lost is null ? VolumeCondition.Healthy : new VolumeCondition(true, $"the volume is no longer mounted at {lost.TargetPath}");
    }

    // Each recheck follows a completed publish or unpublish; a few cover any reader that is not starved outright.
    private const int MaxRechecks = 3;
}
