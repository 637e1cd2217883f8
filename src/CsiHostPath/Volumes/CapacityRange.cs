namespace CsiHostPath.Volumes;

/// <summary>CSI's capacity_range: 0 means "not given" for either bound.</summary>
public readonly record struct CapacityRange(long RequiredBytes, long LimitBytes)
{
    public bool Allows(long bytes) =>
        (RequiredBytes == 0 || bytes >= RequiredBytes) && (LimitBytes == 0 || bytes <= LimitBytes);

    /// <summary>The size a new volume gets: what is required, else the default capped by the limit.</summary>
    public long Resolve(long defaultBytes)
    {
        if (RequiredBytes < 0 || LimitBytes < 0)
            throw new InvalidVolumeArgumentException("capacity_range", "required_bytes and limit_bytes must not be negative");
        if (LimitBytes > 0 && RequiredBytes > LimitBytes)
            throw new CapacityOutOfRangeException($"capacity_range asks for at least {RequiredBytes} bytes but at most {LimitBytes}");
        if (RequiredBytes > 0)
            return RequiredBytes;
        return LimitBytes > 0 ? Math.Min(defaultBytes, LimitBytes) : defaultBytes;
    }
}
