namespace CsiHostPath.Bench.Output;

/// <summary>What one benchmark run measured; the JSON output is this record as it stands.</summary>
public sealed record BenchReport(
    string Mode,
    string Endpoint,
    PluginReport Plugin,
    int Concurrency,
    int Count,
    long SizeBytes,
    int Succeeded,
    int Failed,
    double Seconds,
    double PerSecond,
    IReadOnlyList<RpcReport> Rpcs,
    IReadOnlyDictionary<string, int> ErrorsByCode,
    MemoryReport? Memory,
    PrefillReport? Prefill,
    UsageReport? Usage = null);

public sealed record PluginReport(string Name, string Version, string NodeId, bool Staging, IReadOnlyDictionary<string, string> Topology);

public sealed record RpcReport(string Rpc, int Calls, int Errors, double P50Ms, double P99Ms, double MaxMs, IReadOnlyDictionary<string, int> ErrorsByCode);

/// <summary>
/// The stats mode's volume: how long after the files were written the driver's figure first counted them all, the
/// driver's CPU time meanwhile (with --pid), its figures then, and what du says the volume takes.
/// </summary>
public sealed record UsageReport(int Files, double FirstFigureSeconds, double? DriverCpuSeconds, long UsedBytes, long UsedInodes, long DuBytes, long DuInodes);

/// <summary>The driver's resident set, read from /proc/&lt;pid&gt;/status before the first and after the last RPC of the run.</summary>
public sealed record MemoryReport(int Pid, long RssBeforeKiB, long RssAfterKiB);

/// <summary>Volumes created before the run so that it meets a populated driver, and one paged ListVolumes walk over them.</summary>
public sealed record PrefillReport(int Volumes, int Failed, double CreateSeconds, int ListPageSize, int ListPages, int ListEntries, double ListMs, IReadOnlyList<RpcReport> Rpcs);

/// <summary>
/// Time from spawning the driver to its socket accepting a connection, over several runs, and to its answering a
/// first GetPluginInfo (<see cref="AnsweredMedianMs"/>).
/// </summary>
public sealed record StartupReport(string Driver, int Runs, double MedianMs, double MinMs, double MaxMs, IReadOnlyList<double> RunsMs,
    double AnsweredMedianMs, IReadOnlyList<double> AnsweredRunsMs);
