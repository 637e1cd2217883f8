namespace CsiHostPath.Volumes;

/// <summary>CSI's VolumeCondition: whether a volume is healthy, and if not, what a person should look at.</summary>
public readonly record struct VolumeCondition(bool Abnormal, string Message)
{
    public static readonly VolumeCondition Healthy = new(false, "volume is healthy");
}
