using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Grpc.Core;

namespace CsiHostPath.Metrics;

/// <summary>
/// The driver's own instruments (System.Diagnostics.Metrics), recorded into where things happen. --http-endpoint
/// exports them (<see cref="MetricsEndpoint"/>): a counter gets "_total", a unit of seconds or bytes its suffix, so the
/// names below become the README's csi_hostpath_rpc_requests_total, csi_hostpath_rpc_duration_seconds and so on. With
/// no endpoint nothing listens, and recording costs a check. The gauges that read the node's state are
/// <see cref="DriverGauges"/>.
/// </summary>
public static partial class DriverMeter
{
    public const string Name = "CsiHostPath";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> RpcRequests =
        Meter.CreateCounter<long>("csi_hostpath_rpc_requests", description: "CSI calls completed, by method and gRPC status code.");

    private static readonly Histogram<double> RpcDuration = Meter.CreateHistogram<double>(
        "csi_hostpath_rpc_duration", unit: "s", description: "Time to answer a CSI call, by method.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    private static readonly UpDownCounter<long> RpcInFlight =
        Meter.CreateUpDownCounter<long>("csi_hostpath_rpc_in_flight", description: "CSI calls being answered now, by method.");

    private static readonly Counter<long> OperationFailures = Meter.CreateCounter<long>(
        "csi_hostpath_operation_failures", description: "Failed mount, unmount, loop attach and detach, mkfs and grow operations, by operation.");

    public static readonly Counter<long> EphemeralVolumesSwept = Meter.CreateCounter<long>(
        "csi_hostpath_ephemeral_volumes_swept", description: "Inline ephemeral volumes removed because their pod was gone.");

    public static readonly Histogram<double> UsageWalkDuration = Meter.CreateHistogram<double>(
        "csi_hostpath_usage_walk_duration", unit: "s", description: "Time to walk a directory volume for its usage.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300] });

    // The gRPC spec's names (NOT_FOUND, not NotFound): what grpc-go's servers and the dashboards label codes with.
    private static readonly Dictionary<StatusCode, string> CodeNames = Enum.GetValues<StatusCode>().ToDictionary(
        code => code, code => code == StatusCode.OK ? "OK" : WordBoundary().Replace(code.ToString(), "$1_$2").ToUpperInvariant());

    public static void RpcStarted(string method) => RpcInFlight.Add(1, Method(method));

    public static void RpcCompleted(string method, StatusCode code, TimeSpan elapsed)
    {
        RpcInFlight.Add(-1, Method(method));
        RpcRequests.Add(1, Method(method), new KeyValuePair<string, object?>("code", CodeNames[code]));
        RpcDuration.Record(elapsed.TotalSeconds, Method(method));
    }

    /// <summary>
    /// Shows the failure and sweep counters at 0 from the start: a series that appears only at its first event hides
    /// that event from rate() and increase().
    /// </summary>
    public static void StartCountersAtZero()
    {
        foreach (var operation in Enum.GetValues<OsOperation>())
            OperationFailures.Add(0, Operation(operation));
        EphemeralVolumesSwept.Add(0);
    }

    /// <summary>Runs an OS operation of the Os layer, counting it when it throws.</summary>
    public static void Counted(OsOperation operation, Action action) =>
        Counted(operation, () =>
        {
            action();
            return 0;
        });

    /// <inheritdoc cref="Counted(OsOperation, Action)"/>
    public static T Counted<T>(OsOperation operation, Func<T> action)
    {
        try
        {
            return action();
        }
        catch
        {
            Failed(operation);
            throw;
        }
    }

    /// <summary>Counts a failed OS operation that did not throw out of the Os layer's call.</summary>
    public static void Failed(OsOperation operation) => OperationFailures.Add(1, Operation(operation));

    /// <summary>Creates an observable gauge on the driver's meter; <see cref="DriverGauges"/> reads the node's state through these.</summary>
    internal static ObservableGauge<T> Gauge<T>(string name, Func<IEnumerable<Measurement<T>>> observe, string? unit, string description)
        where T : struct => Meter.CreateObservableGauge(name, observe, unit, description);

    private static KeyValuePair<string, object?> Method(string method) => new("method", method);

    private static KeyValuePair<string, object?> Operation(OsOperation operation) => new("operation", operation switch
    {
        OsOperation.Mount => "mount",
        OsOperation.Unmount => "unmount",
        OsOperation.LoopAttach => "loop_attach",
        OsOperation.LoopDetach => "loop_detach",
        OsOperation.Mkfs => "mkfs",
        _ => "grow",
    });

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex WordBoundary();
}
