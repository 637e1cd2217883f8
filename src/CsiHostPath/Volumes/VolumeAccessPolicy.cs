using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>Which capabilities a directory volume can honour, and the mount flags a publish may pass.</summary>
public static class VolumeAccessPolicy
{
    private static readonly Dictionary<string, MountFlags> SupportedMountFlags = new(StringComparer.Ordinal)
    {
        ["ro"] = MountFlags.ReadOnly,
        ["rw"] = MountFlags.None,
        ["nosuid"] = MountFlags.NoSuid,
        ["nodev"] = MountFlags.NoDev,
        ["noexec"] = MountFlags.NoExec,
        ["noatime"] = MountFlags.NoAtime,
        ["nodiratime"] = MountFlags.NoDirAtime,
        ["relatime"] = MountFlags.RelAtime,
        ["bind"] = MountFlags.None,
        ["defaults"] = MountFlags.None,
    };

    /// <summary>Why this driver cannot honour <paramref name="access"/>, or null when it can.</summary>
    public static string? Refusal(VolumeAccess access)
    {
        if (access.AccessType == AccessType.Block)
            return "block access is not supported by directory volumes";
        if (access.AccessMode is AccessMode.Unknown || !Enum.IsDefined(access.AccessMode))
            return $"access_mode {(int)access.AccessMode} is not set or not known";
        if (access.AccessMode is AccessMode.MultiNodeReaderOnly or AccessMode.MultiNodeSingleWriter or AccessMode.MultiNodeMultiWriter)
            return $"access mode {access.AccessMode} is not supported: a volume lives on one node";
        if (access.FsType.Length > 0)
            return $"fs_type '{access.FsType}' is not supported: directory volumes have no filesystem of their own";
        var unknown = access.MountFlags.FirstOrDefault(f => !SupportedMountFlags.ContainsKey(f));
        return unknown is null ? null : $"mount flag '{unknown}' is not supported (supported: {string.Join(", ", SupportedMountFlags.Keys)})";
    }

    public static MountFlags ToMountFlags(IEnumerable<string> flags, bool readOnly)
    {
        var result = readOnly ? MountFlags.ReadOnly : MountFlags.None;
        foreach (var flag in flags)
            result |= SupportedMountFlags[flag];
        return result;
    }

    /// <summary>Access modes under which NodePublishVolume may publish one volume at several targets (CSI's table for a second publish).</summary>
    public static bool AllowsSeveralTargets(AccessMode mode) => mode is AccessMode.SingleNodeMultiWriter;
}
