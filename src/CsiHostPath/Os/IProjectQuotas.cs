namespace CsiHostPath.Os;

/// <summary>Hard project quotas (XFS prjquota, ext4 with the project feature): a size limit on a directory tree.</summary>
public interface IProjectQuotas
{
    /// <summary>Why project quotas cannot be used on the filesystem holding <paramref name="path"/>, or null when they can.</summary>
    string? Unavailable(string path);

    /// <summary>Gives <paramref name="directory"/> (and, by inheritance, all created in it) the project and its hard limit.</summary>
    void Limit(string directory, uint projectId, long bytes);

    /// <summary>What the project's files take, as the filesystem accounts it: exact and O(1), no walk.</summary>
    DiskUsage Usage(string directory, uint projectId);
}
