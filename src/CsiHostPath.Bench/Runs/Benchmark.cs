using CsiHostPath.Bench.Csi;
using CsiHostPath.Client;
using CsiHostPath.Bench.Output;
using CsiHostPath.Bench.Stats;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// One benchmark run: discover the driver, optionally populate it, warm up (one untimed item per client, so that
/// connection set-up and JIT are not in the figures), run the timed items, and read the driver's memory around it all.
/// </summary>
public static class Benchmark
{
    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        long? rssBefore = options.Pid is { } pid ? ProcessMemory.RssKiB(pid) : null;
        string runId = Guid.NewGuid().ToString("N")[..8];
        string socketPath = CsiClient.SocketPathOf(options.Endpoint);
        var clients = Enumerable.Range(0, options.Concurrency).Select(_ => new CsiClient(socketPath)).ToList();
        string workDir = WorkDirectory.Create(options.WorkDir, runId);
        try
        {
            var stats = new RpcStats();
            var plugin = await PluginFacts.DiscoverAsync(clients[0], stats);
            var prefill = options.Prefill > 0 ? await PrefillAsync(options, plugin, clients, workDir) : null;

            if (options.Mode == BenchMode.Stats)
                return await StatsRunAsync(options, plugin, clients, stats, workDir, runId, rssBefore);
            if (options.Mode == BenchMode.Scale)
                return await ScaleRunAsync(options, plugin, clients, stats, workDir, runId, rssBefore, prefill);
            if (options.Mode == BenchMode.Snapshot)
                return await SnapshotRunAsync(options, plugin, clients[0], stats, workDir, runId, rssBefore);

            var warmUp = new VolumeWorkload(options, plugin, new RpcStats(), workDir);
            await ConcurrentRunner.RunAsync(clients, clients.Count, (client, i) => Item(warmUp, options.Mode, client, $"bench-{runId}-warmup-{i}"));

            var workload = new VolumeWorkload(options, plugin, stats, workDir);
            var result = await ConcurrentRunner.RunAsync(clients, options.Count, (client, i) => Item(workload, options.Mode, client, $"bench-{runId}-{i}"));
            var memory = options.Pid is { } driverPid ? new MemoryReport(driverPid, rssBefore!.Value, ProcessMemory.RssKiB(driverPid)) : null;

            var rpcs = stats.Report();
            return new BenchReport(
                options.Mode == BenchMode.Lifecycle ? "lifecycle" : "create-delete",
                options.Endpoint,
                plugin.ToReport(),
                options.Concurrency,
                options.Count,
                options.SizeBytes,
                result.Succeeded,
                result.Failed,
                result.Elapsed.TotalSeconds,
                result.Succeeded / result.Elapsed.TotalSeconds,
                rpcs,
                SumErrors(rpcs),
                memory,
                prefill);
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
            WorkDirectory.RemoveIfEmpty(workDir);
        }
    }

    /// <summary>Prefilled volumes have fixed names, so a second run with the same count finds them instead of adding more.</summary>
    private static async Task<PrefillReport> PrefillAsync(BenchOptions options, PluginFacts plugin, IReadOnlyList<CsiClient> clients, string workDir)
    {
        var stats = new RpcStats();
        var workload = new VolumeWorkload(options, plugin, stats, workDir);
        var images = new VolumeWorkload(options with { Parameters = ImageParameters(options) }, plugin, stats, workDir);
        var created = await ConcurrentRunner.RunAsync(clients, options.Prefill,
            (client, i) => (i < options.PrefillImages ? images : workload).CreateAsync(client, PrefillName(i)));
        var (pages, entries, elapsed) = await ListVolumesWalk.RunAsync(clients[0], stats);
        return new PrefillReport(options.Prefill, created.Failed, created.Elapsed.TotalSeconds,
            ListVolumesWalk.PageSize, pages, entries, elapsed.TotalMilliseconds, stats.Report());
    }

    public static string PrefillName(int i) => $"bench-prefill-{i}";

    public static Dictionary<string, string> ImageParameters(BenchOptions options) =>
        new(options.Parameters) { ["backing"] = "image" };

    /// <summary>The scale mode: probes published untimed, then --count items from --concurrency clients.</summary>
    private static async Task<BenchReport> ScaleRunAsync(
        BenchOptions options, PluginFacts plugin, IReadOnlyList<CsiClient> clients, RpcStats stats, string workDir, string runId, long? rssBefore,
        PrefillReport? prefill)
    {
        var workload = new ScaleWorkload(options, plugin, stats, workDir);
        await workload.PrepareAsync(clients[0], runId);
        try
        {
            var result = await ConcurrentRunner.RunAsync(clients, options.Count, (client, i) => workload.ItemAsync(client, $"bench-{runId}-{i}", i));
            var memory = options.Pid is { } pid ? new MemoryReport(pid, rssBefore!.Value, ProcessMemory.RssKiB(pid)) : null;
            var rpcs = stats.Report();
            return new BenchReport("scale", options.Endpoint, plugin.ToReport(), options.Concurrency, options.Count, options.SizeBytes,
                result.Succeeded, result.Failed, result.Elapsed.TotalSeconds, result.Succeeded / result.Elapsed.TotalSeconds,
                rpcs, SumErrors(rpcs), memory, prefill);
        }
        finally
        {
            await workload.CleanupAsync(clients[0]);
        }
    }

    /// <summary>The stats mode: one volume set up and filled untimed, then --count stats calls from --concurrency clients.</summary>
    private static async Task<BenchReport> StatsRunAsync(
        BenchOptions options, PluginFacts plugin, IReadOnlyList<CsiClient> clients, RpcStats stats, string workDir, string runId, long? rssBefore)
    {
        var workload = new StatsWorkload(options, plugin, new RpcStats(), workDir);
        var usage = await workload.PrepareAsync(clients[0], $"bench-{runId}-stats");
        try
        {
            await ConcurrentRunner.RunAsync(clients, clients.Count, (client, _) => workload.StatsAsync(client, new RpcStats()));
            var result = await ConcurrentRunner.RunAsync(clients, options.Count, (client, _) => workload.ItemAsync(client, stats));
            var memory = options.Pid is { } pid ? new MemoryReport(pid, rssBefore!.Value, ProcessMemory.RssKiB(pid)) : null;
            var rpcs = stats.Report();
            return new BenchReport("stats", options.Endpoint, plugin.ToReport(), options.Concurrency, options.Count, options.SizeBytes,
                result.Succeeded, result.Failed, result.Elapsed.TotalSeconds, result.Succeeded / result.Elapsed.TotalSeconds,
                rpcs, SumErrors(rpcs), memory, Prefill: null, usage);
        }
        finally
        {
            await workload.CleanupAsync(clients[0]);
        }
    }

    /// <summary>The snapshot mode: one volume set up and filled untimed, then --count snapshot-and-restore rounds one after another.</summary>
    private static async Task<BenchReport> SnapshotRunAsync(
        BenchOptions options, PluginFacts plugin, CsiClient client, RpcStats stats, string workDir, string runId, long? rssBefore)
    {
        var workload = new SnapshotWorkload(options, plugin, stats, workDir);
        await workload.PrepareAsync(client, $"bench-{runId}-source");
        try
        {
            var result = await ConcurrentRunner.RunAsync([client], options.Count, (c, i) => workload.RoundAsync(c, $"bench-{runId}-{i}"));
            var memory = options.Pid is { } pid ? new MemoryReport(pid, rssBefore!.Value, ProcessMemory.RssKiB(pid)) : null;
            var rpcs = stats.Report();
            return new BenchReport("snapshot", options.Endpoint, plugin.ToReport(), 1, options.Count, options.SizeBytes,
                result.Succeeded, result.Failed, result.Elapsed.TotalSeconds, result.Succeeded / result.Elapsed.TotalSeconds,
                rpcs, SumErrors(rpcs), memory, Prefill: null);
        }
        finally
        {
            await workload.CleanupAsync(client);
        }
    }

    private static Task Item(VolumeWorkload workload, BenchMode mode, CsiClient client, string name) =>
        mode == BenchMode.Lifecycle ? workload.LifecycleAsync(client, name) : workload.CreateDeleteAsync(client, name);

    private static Dictionary<string, int> SumErrors(IEnumerable<RpcReport> rpcs) =>
        rpcs.SelectMany(r => r.ErrorsByCode)
            .GroupBy(e => e.Key)
            .ToDictionary(g => g.Key, g => g.Sum(e => e.Value));
}
