namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>The theory form of <see cref="OwnDriverFactAttribute"/>: skipped only when CSI_ENDPOINT points elsewhere.</summary>
public sealed class OwnDriverTheoryAttribute : TheoryAttribute
{
    public OwnDriverTheoryAttribute()
    {
        if (CsiEndpoint.IsExternal)
            Skip = OwnDriverFactAttribute.ExternalReason;
    }
}
