namespace CsiHostPath.Volumes;

/// <summary>
/// The kubelet pod directory an inline volume's target lies in. kubelet publishes at
/// &lt;root&gt;/pods/&lt;pod uid&gt;/volumes/kubernetes.io~csi/&lt;volume name&gt;/mount (pkg/volume/csi/csi_mounter.go, getTargetPath),
/// and removes the pod directory only once the pod is gone for good: a restarted container keeps it, and so does a reboot.
/// </summary>
public static class EphemeralPodDirectory
{
    /// <summary>The pod directory of a kubelet-shaped target, or null for any other target (which the sweep then leaves alone).</summary>
    public static string? Of(string targetPath)
    {
        var parts = targetPath.TrimEnd('/').Split('/');
        if (parts.Length < 7 || parts[0].Length != 0
            || parts[^1] != "mount" || parts[^3] != "kubernetes.io~csi" || parts[^4] != "volumes" || parts[^6] != "pods"
            || parts[^2] is "" or "." or ".." || parts[^5] is "" or "." or ".." || parts.Any(p => p is ".."))
            return null;
        return string.Join('/', parts[..^4]);
    }
}
