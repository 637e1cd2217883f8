namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>
/// A test that needs csi-hostpath itself (its data dir, its flags, a restart): skipped, with that reason, only when
/// CSI_ENDPOINT points the suite at another driver, never otherwise.
/// </summary>
public sealed class OwnDriverFactAttribute : FactAttribute
{
    public const string ExternalReason = "CSI_ENDPOINT points at an external driver";

    public OwnDriverFactAttribute()
    {
        if (CsiEndpoint.IsExternal)
            Skip = ExternalReason;
    }
}
