using System.Net;

namespace CsiHostPath.Options;

/// <summary>Everything the driver is told on its command line.</summary>
public sealed class DriverOptions
{
    /// <summary>The unix socket gRPC listens on, as a bare path (the unix:// scheme is stripped by the parser).</summary>
    public string Endpoint { get; set; } = DriverOptionsDefaults.Endpoint;

    public string NodeId { get; set; } = "";

    public string DataDir { get; set; } = DriverOptionsDefaults.DataDir;

    public string DriverName { get; set; } = DriverOptionsDefaults.DriverName;

    /// <summary>Where /metrics is served over HTTP/1.1 on TCP; null (the default) serves no metrics.</summary>
    public IPEndPoint? HttpEndpoint { get; set; }

    /// <summary>0 means no limit, as NodeGetInfo defines it.</summary>
    public long MaxVolumesPerNode { get; set; }

    /// <summary>The size given to a volume whose CreateVolume has no capacity_range.</summary>
    public long DefaultVolumeSizeBytes { get; set; } = DriverOptionsDefaults.DefaultVolumeSizeBytes;

    /// <summary>Lets image volumes' sparse files promise more than the disk has; off, GetCapacity subtracts what they may still write.</summary>
    public bool AllowImageOvercommit { get; set; }

    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    public LogFormat LogFormat { get; set; } = LogFormat.Text;

    /// <summary>How old a directory volume's measured usage may be before the next stats call queues a new walk.</summary>
    public TimeSpan UsageRefreshInterval { get; set; } = DriverOptionsDefaults.UsageRefreshInterval;

    /// <summary>How many directory volumes may be walked for their usage at once.</summary>
    public int UsageWalkers { get; set; } = 1;

    /// <summary>How long a driver waits for another driver on the same data dir to exit before it gives up.</summary>
    public TimeSpan LockTimeout { get; set; } = DriverOptionsDefaults.LockTimeout;

    /// <summary>Whether NodePublishVolume creates CSI ephemeral inline volumes; off, such calls are refused.</summary>
    public bool EphemeralVolumes { get; set; } = true;

    /// <summary>The largest size a pod's inline ephemeral volume may ask for: any pod author can ask, so the admin bounds it.</summary>
    public long MaxEphemeralVolumeSizeBytes { get; set; } = DriverOptionsDefaults.MaxEphemeralVolumeSizeBytes;

    /// <summary>How often ephemeral volumes whose pod is gone are removed.</summary>
    public TimeSpan EphemeralSweepInterval { get; set; } = DriverOptionsDefaults.EphemeralSweepInterval;

    /// <summary>How long a client connection with no call in flight stays open: never, except in tests that prove it.</summary>
    public TimeSpan ConnectionIdleTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long a connection to the metrics listener may stay open: a scrape takes milliseconds, a stalled client is cut.</summary>
    public TimeSpan MetricsConnectionLifetime { get; set; } = DriverOptionsDefaults.MetricsConnectionLifetime;

    /// <summary>The topology segment key whose value is this node's id; external-provisioner copies it into PV node affinity.</summary>
    public string TopologyKey => $"topology.{DriverName}/node";
}
