namespace CsiHostPath.Volumes;

/// <summary>
/// The shapes of the target paths kubelet hands to NodePublishVolume (kubernetes pkg/volume/csi): csi_mounter.go's
/// GetPath, <c>&lt;kubelet&gt;/pods/&lt;pod uid&gt;/volumes/kubernetes.io~csi/&lt;pv&gt;/mount</c>, and csi_block.go's
/// getPublishPath, <c>&lt;kubelet&gt;/plugins/kubernetes.io/csi/volumeDevices/publish/&lt;pv&gt;[/&lt;pod uid&gt;]</c>.
/// Whatever kubelet's root is (a flag, a symlink), a path of these shapes is a pod's and nobody else's.
/// </summary>
public static class KubeletTargetPath
{
    private const string PodVolumes = "/volumes/kubernetes.io~csi/";
    private const string BlockPublish = "/plugins/kubernetes.io/csi/volumeDevices/publish/";

    public static bool Matches(string path)
    {
        if (path.Contains("/../", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal))
            return false;
        int pods = path.IndexOf("/pods/", StringComparison.Ordinal);
        if (pods >= 0 && path.IndexOf(PodVolumes, pods, StringComparison.Ordinal) > pods && path.EndsWith("/mount", StringComparison.Ordinal))
            return true;
        int block = path.IndexOf(BlockPublish, StringComparison.Ordinal);
        return block >= 0 && path.Length > block + BlockPublish.Length;
    }
}
