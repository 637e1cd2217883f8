using CsiHostPath.Interop;

namespace CsiHostPath.Os;

public sealed class LinuxProjectQuotas : IProjectQuotas
{
    public string? Unavailable(string path)
    {
        try
        {
            using var fd = Libc.OpenAt(null, path, Libc.O_RDONLY | Libc.O_DIRECTORY);
            var info = default(Libc.QuotaInfo);
            Libc.QuotactlProject(fd, Libc.Q_GETINFO, 0, ref info, path);
            return null;
        }
        catch (ErrnoException e)
        {
            return $"project quotas are not enabled on the filesystem of {path} ({e.Message}); mount XFS with prjquota, or give ext4 the project and quota features and mount it with prjquota";
        }
    }

    public void Limit(string directory, uint projectId, long bytes)
    {
        using var fd = Libc.OpenAt(null, directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        var attributes = Libc.GetFsXattr(fd, directory);
        attributes.ProjectId = projectId;
        attributes.XFlags |= Libc.FS_XFLAG_PROJINHERIT;
        Libc.SetFsXattr(fd, attributes, directory);
        var quota = QuotaFor(bytes);
        Libc.QuotactlProject(fd, Libc.Q_SETQUOTA, projectId, ref quota, directory);
    }

    public DiskUsage Usage(string directory, uint projectId)
    {
        using var fd = Libc.OpenAt(null, directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        var quota = default(Libc.DiskQuota);
        Libc.QuotactlProject(fd, Libc.Q_GETQUOTA, projectId, ref quota, directory);
        return UsageOf(quota);
    }

    /// <summary>dqb_curspace counts bytes (unlike the limits' 1 KiB blocks), dqb_curinodes inodes.</summary>
    internal static DiskUsage UsageOf(in Libc.DiskQuota quota) => new((long)quota.CurrentSpace, (long)quota.CurrentInodes);

    /// <summary>A hard block limit in the kernel's 1 KiB units, rounded up so the volume gets at least its size.</summary>
    internal static Libc.DiskQuota QuotaFor(long bytes) => new()
    {
        BlockHardLimit = (ulong)((bytes + 1023) / 1024),
        BlockSoftLimit = 0,
        Valid = Libc.QIF_BLIMITS,
    };
}
