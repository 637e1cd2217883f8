namespace CsiHostPath.Options;

public static class DriverOptionsDefaults
{
    // Local defaults that need no set-up: a developer can start the driver with no flags at all.
    public const string Endpoint = "/tmp/csi-hostpath/csi.sock";
    public const string DataDir = "/tmp/csi-hostpath/data";
    public const string DriverName = "hostpath.csihostpath.dev";
    public const long DefaultVolumeSizeBytes = 1L << 30;

    // kubelet asks every published volume's stats once a minute (--volume-stats-agg-period).
    public static readonly TimeSpan UsageRefreshInterval = TimeSpan.FromSeconds(60);

    // A rolling update's old pod gets kubelet's 30 s grace period to exit; the new one waits as long.
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Prometheus' scrape timeout is 10 s by default: a scrape that needs longer has failed anyway.</summary>
    public static readonly TimeSpan MetricsConnectionLifetime = TimeSpan.FromSeconds(10);
    public const long MaxEphemeralVolumeSizeBytes = 10L << 30;
    public static readonly TimeSpan EphemeralSweepInterval = TimeSpan.FromMinutes(1);
}
