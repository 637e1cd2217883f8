namespace CsiHostPath.Volumes;

/// <summary>The StorageClass parameters this driver understands; any other key is refused so that a typo is not silently ignored.</summary>
public sealed record VolumeParameters(Backing Backing, OnDelete OnDelete, bool Quota)
{
    /// <summary>Keys external-provisioner adds itself (--extra-create-metadata) or reserves; kept with the volume, never interpreted.</summary>
    public const string KubernetesPrefix = "csi.storage.k8s.io/";

    public const string PvcName = KubernetesPrefix + "pvc/name";
    public const string PvcNamespace = KubernetesPrefix + "pvc/namespace";
    public const string PvName = KubernetesPrefix + "pv/name";

    public const string BackingKey = "backing";
    public const string OnDeleteKey = "onDelete";
    public const string QuotaKey = "quota";

    public static VolumeParameters Parse(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var key in parameters.Keys)
        {
            if (!key.StartsWith(KubernetesPrefix, StringComparison.Ordinal) && key is not (BackingKey or OnDeleteKey or QuotaKey))
                throw new InvalidVolumeArgumentException("parameters",
                    $"unknown parameter '{key}'; this driver accepts {BackingKey}, {OnDeleteKey}, {QuotaKey} and {KubernetesPrefix}* keys");
        }
        var result = new VolumeParameters(
            ParseEnum(parameters, BackingKey, Backing.Directory),
            ParseEnum(parameters, OnDeleteKey, OnDelete.Delete),
            ParseBool(parameters, QuotaKey));
        if (result.Quota && result.Backing != Backing.Directory)
            throw new InvalidVolumeArgumentException("parameters", $"{QuotaKey} applies to backing: directory; an image volume's size is already enforced by its filesystem");
        return result;
    }

    private static bool ParseBool(IReadOnlyDictionary<string, string> parameters, string key)
    {
        if (!parameters.TryGetValue(key, out var value))
            return false;
        return bool.TryParse(value, out bool result)
            ? result
            : throw new InvalidVolumeArgumentException("parameters", $"{key} '{value}' is not \"true\" or \"false\"");
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
