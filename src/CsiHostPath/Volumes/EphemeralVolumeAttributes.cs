namespace CsiHostPath.Volumes;

/// <summary>
/// The volumeAttributes of a pod's inline CSI volume, as kubelet passes them in NodePublishVolume's volume_context
/// (kubelet pkg/volume/csi/csi_mounter.go, SetUpAt and podAttributes): the driver's own keys, which mean what they mean
/// in a StorageClass, plus the pod-info keys kubelet adds. Anything else is refused, so a typo is not silently ignored.
/// </summary>
public sealed record EphemeralVolumeAttributes(long SizeBytes, string FsType, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>"true" when kubelet publishes an inline ephemeral volume (needs podInfoOnMount: true in the CSIDriver).</summary>
    public const string EphemeralKey = VolumeParameters.KubernetesPrefix + "ephemeral";

    public const string SizeKey = "size";
    public const string FsTypeKey = VolumeParameters.KubernetesPrefix + "fstype";

    // A token kubelet adds only when the CSIDriver has tokenRequests: accepted, never written to the record.
    private const string TokensKey = VolumeParameters.KubernetesPrefix + "serviceAccount.tokens";

    private static readonly HashSet<string> PodInfoKeys = new(StringComparer.Ordinal)
    {
        VolumeParameters.KubernetesPrefix + "pod.name",
        VolumeParameters.KubernetesPrefix + "pod.namespace",
        VolumeParameters.KubernetesPrefix + "pod.uid",
        VolumeParameters.KubernetesPrefix + "serviceAccount.name",
        EphemeralKey,
        TokensKey,
    };

    private static readonly HashSet<string> DriverKeys = new(StringComparer.Ordinal)
    {
        SizeKey, VolumeParameters.BackingKey, VolumeParameters.QuotaKey, FsTypeKey,
    };

    public static bool IsEphemeral(IReadOnlyDictionary<string, string> volumeContext) =>
        volumeContext.TryGetValue(EphemeralKey, out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    public static EphemeralVolumeAttributes Parse(IReadOnlyDictionary<string, string> volumeContext, long defaultSizeBytes)
    {
        foreach (var key in volumeContext.Keys)
        {
            if (key == VolumeParameters.OnDeleteKey)
                throw Invalid($"{key} does not apply to an inline ephemeral volume: it is deleted with its pod");
            if (!DriverKeys.Contains(key) && !PodInfoKeys.Contains(key))
                throw Invalid($"unknown volume attribute '{key}'; an inline ephemeral volume accepts {SizeKey}, {VolumeParameters.BackingKey}, "
                    + $"{VolumeParameters.QuotaKey}, {FsTypeKey} and kubelet's pod-info keys");
        }
        long size = defaultSizeBytes;
        if (volumeContext.TryGetValue(SizeKey, out var text) && (!Quantity.TryParseBytes(text, out size) || size == 0))
            throw Invalid($"{SizeKey} '{text}' is not {Quantity.Form}, more than 0");
        var parameters = volumeContext
            .Where(kv => kv.Key is not (SizeKey or TokensKey))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        VolumeParameters.Parse(parameters);
        return new EphemeralVolumeAttributes(size, volumeContext.GetValueOrDefault(FsTypeKey, ""), parameters);
    }

    private static InvalidVolumeArgumentException Invalid(string message) => new("volume_context", message);
}
