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

    /// <summary>Why a volume of <paramref name="backing"/> cannot honour <paramref name="access"/>, or null when it can.</summary>
    public static string? Refusal(VolumeAccess access, Backing backing)
    {
        if (access.AccessType == AccessType.Block && backing == Backing.Directory)
            return "block access needs the StorageClass parameter backing: image";
        if (access.AccessMode is AccessMode.Unknown || !Enum.IsDefined(access.AccessMode))
            return $"access_mode {(int)access.AccessMode} is not set or not known";
        if (access.AccessMode is AccessMode.MultiNodeReaderOnly or AccessMode.MultiNodeSingleWriter or AccessMode.MultiNodeMultiWriter)
            return $"access mode {access.AccessMode} is not supported: a volume lives on one node";
        if (access.FsType.Length > 0 && backing == Backing.Directory)
            return $"fs_type '{access.FsType}' needs the StorageClass parameter backing: image; directory volumes have no filesystem of their own";
        if (access.FsType.Length > 0 && !FileSystemTools.Supported.Contains(access.FsType))
            return $"fs_type '{access.FsType}' is not supported (supported: {string.Join(", ", FileSystemTools.Supported)})";
        var unknown = access.MountFlags.FirstOrDefault(f => !SupportedMountFlags.ContainsKey(f) && !FileSystemOptions.IsOne(f));
        if (unknown is not null)
            return $"mount flag '{unknown}' is not supported (supported: {string.Join(", ", SupportedMountFlags.Keys)}; and for backing: image volumes of access type mount, lazytime, discard, context=)";
        if (access.MountFlags.FirstOrDefault(FileSystemOptions.IsOne) is not { } own)
            return null;
        if (backing != Backing.Image || access.AccessType != AccessType.Mount)
            return $"mount flag '{own}' is an option of a filesystem of the volume's own, which only backing: image volumes of access type mount have; a directory volume is a bind mount of a directory of the node's filesystem, and a block volume has no filesystem";
        return access.MountFlags.Select(FileSystemOptions.Malformed).FirstOrDefault(m => m is not null);
    }

    /// <summary>Why an existing volume cannot be used with <paramref name="access"/>, or null when it can.</summary>
    public static string? Refusal(VolumeRecord volume, VolumeAccess access)
    {
        if (Refusal(access, volume.Backing) is { } refusal)
            return refusal;
        if (access.AccessType != volume.AccessType)
            return $"volume {volume.VolumeId} is a {volume.AccessType.ToString().ToLowerInvariant()} volume, not {access.AccessType.ToString().ToLowerInvariant()}";
        if (access.FsType.Length > 0 && access.FsType != volume.FsType)
            return $"volume {volume.VolumeId} has {(volume.FsType.Length > 0 ? "filesystem " + volume.FsType : "no filesystem of its own")}, not {access.FsType}";
        return null;
    }

    public static MountFlags ToMountFlags(IEnumerable<string> flags, bool readOnly)
    {
        var result = readOnly ? MountFlags.ReadOnly : MountFlags.None;
        // lazytime, discard and context= are the image filesystem's own (FileSystemOptions), not the bind mount's.
        foreach (var flag in flags)
            result |= SupportedMountFlags.GetValueOrDefault(flag);
        return result;
    }

    /// <summary>
    /// Whether a volume published with <paramref name="published"/> may be published at another target with
    /// <paramref name="requested"/>. CSI's table for a second NodePublishVolume allows it only for SINGLE_NODE_MULTI_WRITER
    /// (MULTI_NODE_* are refused earlier); a SINGLE_NODE_SINGLE_WRITER or SINGLE_NODE_WRITER publication on either side
    /// refuses it, whichever came first.
    /// </summary>
    public static bool AllowsSeveralTargets(AccessMode published, AccessMode requested) =>
        published is AccessMode.SingleNodeMultiWriter && requested is AccessMode.SingleNodeMultiWriter;
}
