namespace CsiHostPath.Os;

/// <summary>One line of /proc/self/mountinfo (proc(5)).</summary>
public sealed record MountInfo(
    int MountId,
    int ParentId,
    string Root,
    string MountPoint,
    string MountOptions,
    string FsType,
    string Source,
    string SuperOptions)
{
    public bool IsReadOnly => MountOptions.Split(',').Contains("ro");
}
