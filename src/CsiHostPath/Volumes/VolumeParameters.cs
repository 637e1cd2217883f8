namespace CsiHostPath.Volumes;

/// <summary>The StorageClass parameters this driver understands; any other key is refused so that a typo is not silently ignored.</summary>
public static class VolumeParameters
{
    /// <summary>Keys external-provisioner adds itself (--extra-create-metadata) or reserves; kept with the volume, never interpreted.</summary>
    public const string KubernetesPrefix = "csi.storage.k8s.io/";

    public const string PvcName = KubernetesPrefix + "pvc/name";
    public const string PvcNamespace = KubernetesPrefix + "pvc/namespace";
    public const string PvName = KubernetesPrefix + "pv/name";

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal);

    public static void Validate(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var key in parameters.Keys)
        {
            if (!key.StartsWith(KubernetesPrefix, StringComparison.Ordinal) && !Known.Contains(key))
                throw new InvalidVolumeArgumentException("parameters", $"unknown parameter '{key}'; this driver accepts only {KubernetesPrefix}* keys");
        }
    }
}
