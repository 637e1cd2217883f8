namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>Volume names unique to one test, so tests sharing a driver (or an external driver's other users) never collide.</summary>
public static class VolumeNames
{
    public static string New(string label) => $"conf-{label}-{Guid.NewGuid():N}";
}
