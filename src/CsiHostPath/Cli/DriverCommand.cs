using System.CommandLine;
using System.Net;
using CsiHostPath.Options;
using CsiHostPath.Volumes;

namespace CsiHostPath.Cli;

/// <summary>The command line: flags map one-to-one onto <see cref="DriverOptions"/>.</summary>
public static class DriverCommand
{
    public static RootCommand Create(Func<DriverOptions, CancellationToken, Task<int>> run)
    {
        var endpoint = new Option<string>("--endpoint")
        {
            Description = "CSI endpoint: unix:///path/csi.sock or a bare path. A stale socket file there is removed.",
            DefaultValueFactory = _ => "unix://" + DriverOptionsDefaults.Endpoint,
        };
        var nodeId = new Option<string>("--node-id")
        {
            Description = "This node's id, as Kubernetes names the node. Default: $NODE_NAME, else the host name.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NODE_NAME") is { Length: > 0 } name ? name : Environment.MachineName,
        };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Directory that holds every volume and its record.",
            DefaultValueFactory = _ => DriverOptionsDefaults.DataDir,
        };
        var driverName = new Option<string>("--driver-name")
        {
            Description = "CSI driver name; StorageClasses name it as their provisioner.",
            DefaultValueFactory = _ => DriverOptionsDefaults.DriverName,
        };
        var httpEndpoint = new Option<string>("--http-endpoint")
        {
            Description = "Serve Prometheus metrics at /metrics over HTTP on this TCP address: 0.0.0.0:9810, [::1]:9810, or :9810 for every address. Empty (the default): no metrics.",
            DefaultValueFactory = _ => "",
        };
        httpEndpoint.Validators.Add(result =>
        {
            string text = result.GetValueOrDefault<string>();
            if (!TryParseHttpEndpoint(text, out _))
                result.AddError($"--http-endpoint: '{text}' is not ADDR:PORT with a port from 1 to 65535 (such as 0.0.0.0:9810, [::1]:9810 or :9810)");
        });
        var maxVolumes = new Option<long>("--max-volumes-per-node")
        {
            Description = "Most volumes that may be published on this node, reported to the scheduler (0: no limit).",
            DefaultValueFactory = _ => 0,
        };
        var defaultSize = new Option<long>("--default-volume-size")
        {
            Description = "Size of a volume created without a capacity range, or of an inline ephemeral volume without a size attribute: bytes or a quantity such as 1Gi.",
            DefaultValueFactory = _ => DriverOptionsDefaults.DefaultVolumeSizeBytes,
            CustomParser = ParseBytes,
        };
        var overcommit = new Option<bool>("--allow-image-overcommit")
        {
            Description = "Let image volumes' sparse files promise more space than the disk has free (off: capacity counts their full size).",
        };
        var ephemeral = new Option<bool>("--ephemeral-volumes")
        {
            Description = "Create CSI ephemeral inline volumes that pods declare (--ephemeral-volumes=false refuses them).",
            DefaultValueFactory = _ => true,
        };
        var maxEphemeralSize = new Option<long>("--max-ephemeral-volume-size")
        {
            Description = "Largest size an inline ephemeral volume may ask for (bytes or a quantity such as 10Gi); larger asks are OUT_OF_RANGE.",
            DefaultValueFactory = _ => DriverOptionsDefaults.MaxEphemeralVolumeSizeBytes,
            CustomParser = ParseBytes,
        };
        var sweepInterval = new Option<TimeSpan>("--ephemeral-sweep-interval")
        {
            Description = "How often inline ephemeral volumes whose pod is gone are removed: 1m, 30s or plain seconds.",
            DefaultValueFactory = _ => DriverOptionsDefaults.EphemeralSweepInterval,
            CustomParser = ParseDuration,
        };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "Least severe level logged. Debug adds the frequent identity and stats calls to the per-RPC log.",
            DefaultValueFactory = _ => LogLevel.Information,
        };
        var logFormat = new Option<LogFormat>("--log-format")
        {
            Description = "text: one line per event for people. json: one JSON object per line, with the structured fields (VolumeId, Method, StatusCode, DurationMs) as keys.",
            DefaultValueFactory = _ => LogFormat.Text,
        };
        var lockTimeout = new Option<string>("--lock-timeout")
        {
            Description = "How long to wait for another driver holding the same --data-dir to exit: 30s, 2m, 500ms or plain seconds.",
            DefaultValueFactory = _ => "30s",
        };
        lockTimeout.Validators.Add(result =>
        {
            if (!Durations.TryParse(result.GetValueOrDefault<string>(), out _))
                result.AddError($"--lock-timeout: '{result.GetValueOrDefault<string>()}' is not a duration such as 30s, 2m, 500ms or 30");
        });

        var usageRefresh = new Option<string>("--usage-refresh-interval")
        {
            Description = "How old a directory volume's measured usage may get before a stats call has it measured again: 60s, 5m or plain seconds.",
            DefaultValueFactory = _ => "60s",
        };
        usageRefresh.Validators.Add(result =>
        {
            if (!Durations.TryParse(result.GetValueOrDefault<string>(), out _))
                result.AddError($"--usage-refresh-interval: '{result.GetValueOrDefault<string>()}' is not a duration such as 60s, 5m or 60");
        });
        var usageWalkers = new Option<int>("--usage-walkers")
        {
            Description = "How many directory volumes may be walked for their usage at once.",
            DefaultValueFactory = _ => 1,
        };

        // Not for users: the sidecars exit when their connection drops. A test sets it to show that a finite one would.
        var idleTimeout = new Option<int>("--connection-idle-timeout-ms")
        {
            Description = "Close a client connection idle this long (0: never).",
            Hidden = true,
        };

        // Not for users: a test shortens it to see a stalled metrics connection cut.
        var metricsLifetime = new Option<int>("--http-connection-lifetime-ms")
        {
            Description = "Close a metrics connection this long after it opened.",
            Hidden = true,
            DefaultValueFactory = _ => (int)DriverOptionsDefaults.MetricsConnectionLifetime.TotalMilliseconds,
        };

        var root = new RootCommand("CsiHostPath: a CSI driver that provisions node-local directories as Kubernetes volumes.")
        {
            endpoint, nodeId, dataDir, driverName, httpEndpoint, maxVolumes, defaultSize, overcommit, ephemeral, maxEphemeralSize, sweepInterval, logLevel, logFormat, lockTimeout, usageRefresh, usageWalkers, idleTimeout, metricsLifetime,
        };
        root.SetAction((result, cancellationToken) => run(new DriverOptions
        {
            Endpoint = ParseEndpoint(result.GetValue(endpoint)!),
            NodeId = result.GetValue(nodeId)!,
            DataDir = Path.TrimEndingDirectorySeparator(result.GetValue(dataDir)!),
            DriverName = result.GetValue(driverName)!,
            HttpEndpoint = TryParseHttpEndpoint(result.GetValue(httpEndpoint)!, out var http) ? http : null,
            MaxVolumesPerNode = result.GetValue(maxVolumes),
            DefaultVolumeSizeBytes = result.GetValue(defaultSize),
            AllowImageOvercommit = result.GetValue(overcommit),
            LogLevel = result.GetValue(logLevel),
            LogFormat = result.GetValue(logFormat),
            UsageRefreshInterval = Durations.TryParse(result.GetValue(usageRefresh)!, out var refresh) ? refresh : DriverOptionsDefaults.UsageRefreshInterval,
            UsageWalkers = result.GetValue(usageWalkers),
            LockTimeout = Durations.TryParse(result.GetValue(lockTimeout)!, out var timeout) ? timeout : DriverOptionsDefaults.LockTimeout,
            EphemeralVolumes = result.GetValue(ephemeral),
            MaxEphemeralVolumeSizeBytes = result.GetValue(maxEphemeralSize),
            EphemeralSweepInterval = result.GetValue(sweepInterval),
            ConnectionIdleTimeout = result.GetValue(idleTimeout) is > 0 and var ms ? TimeSpan.FromMilliseconds(ms) : Timeout.InfiniteTimeSpan,
            MetricsConnectionLifetime = TimeSpan.FromMilliseconds(Math.Max(1, result.GetValue(metricsLifetime))),
        }, cancellationToken));
        return root;
    }

    private static long ParseBytes(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Quantity.TryParseBytes(text, out long bytes))
            return bytes;
        result.AddError($"{OptionName(result)}: '{text}' is not {Quantity.Form}");
        return 0;
    }

    private static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Durations.TryParse(text, out var duration))
            return duration;
        result.AddError($"{OptionName(result)}: '{text}' is not a duration such as 1m, 30s, 500ms or 30");
        return TimeSpan.Zero;
    }

    /// <summary>The kubernetes-csi sidecars' form of --http-endpoint: ADDR:PORT, or :PORT for every address; empty is off (null).</summary>
    private static bool TryParseHttpEndpoint(string text, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (text.Length == 0)
            return true;
        if (text.StartsWith(':') && int.TryParse(text.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int anyPort)
            && anyPort is > 0 and <= IPEndPoint.MaxPort)
            endpoint = new IPEndPoint(IPAddress.IPv6Any, anyPort);
        // IPEndPoint.TryParse takes a bare address as port 0: a port must be given.
        else if (IPEndPoint.TryParse(text, out var parsed) && parsed.Port > 0)
            endpoint = parsed;
        return endpoint is not null;
    }

    private static string OptionName(System.CommandLine.Parsing.ArgumentResult result) =>
        ((System.CommandLine.Parsing.OptionResult)result.Parent!).Option.Name;

    /// <summary>Accepts the forms kubelet and the sidecars use: unix:///abs/path, unix:/abs/path or a bare path.</summary>
    public static string ParseEndpoint(string endpoint) =>
        endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..]
        : endpoint.StartsWith("unix:", StringComparison.Ordinal) ? endpoint["unix:".Length..]
        : endpoint;
}
