namespace CsiHostPath.Volumes;

/// <summary>The StorageClass parameters this driver understands; any other key is refused so that a typo is not silently ignored.</summary>
public sealed record VolumeParameters(Backing Backing, OnDelete OnDelete)
{
    /// <summary>Keys external-provisioner adds itself (--extra-create-metadata) or reserves; kept with the volume, never interpreted.</summary>
    public const string KubernetesPrefix = "csi.storage.k8s.io/";

    public const string PvcName = KubernetesPrefix + "pvc/name";
    public const string PvcNamespace = KubernetesPrefix + "pvc/namespace";
    public const string PvName = KubernetesPrefix + "pv/name";

    public const string BackingKey = "backing";
    public const string OnDeleteKey = "onDelete";

    public static VolumeParameters Parse(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var key in parameters.Keys)
        {
            if (!key.StartsWith(KubernetesPrefix, StringComparison.Ordinal) && key is not (BackingKey or OnDeleteKey))
                throw new InvalidVolumeArgumentException("parameters",
                    $"unknown parameter '{key}'; this driver accepts {BackingKey}, {OnDeleteKey} and {KubernetesPrefix}* keys");
        }
        return new VolumeParameters(
            ParseEnum(parameters, BackingKey, Backing.Directory),
            ParseEnum(parameters, OnDeleteKey, OnDelete.Delete));
    }

    private static T ParseEnum<T>(IReadOnlyDictionary<string, string> parameters, string key, T fallback) where T : struct, Enum
    {
        if (!parameters.TryGetValue(key, out var value))
            return fallback;
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(candidate.ToString(), value, StringComparison.OrdinalIgnoreCase))
                return candidate;
        }
        var allowed = string.Join(", ", Enum.GetValues<T>().Select(v => v.ToString().ToLowerInvariant()));
        throw new InvalidVolumeArgumentException("parameters", $"{key} '{value}' is not one of: {allowed}");
    }
}
