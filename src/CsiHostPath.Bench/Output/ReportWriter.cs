using System.Text.Json;

namespace CsiHostPath.Bench.Output;

/// <summary>Writes a report as indented JSON for machines, or as aligned text for people (numbers in the invariant culture the build sets).</summary>
public static class ReportWriter
{
    public static void Write(TextWriter output, BenchReport report, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, ReportJsonContext.Default.BenchReport));
            return;
        }
        var p = report.Plugin;
        output.WriteLine($"driver     {p.Name} {p.Version} on node {p.NodeId}, staging {(p.Staging ? "yes" : "no")}, endpoint {report.Endpoint}");
        if (report.Prefill is { } prefill)
        {
            output.WriteLine($"prefill    {prefill.Volumes} volumes in {prefill.CreateSeconds:F2} s ({prefill.Failed} failed); ListVolumes walk: {prefill.ListEntries} entries in {prefill.ListPages} pages of {prefill.ListPageSize}, {prefill.ListMs:F1} ms");
            WriteRpcs(output, prefill.Rpcs);
        }
        if (report.Usage is { } usage)
            output.WriteLine($"volume     {usage.Files} files counted {usage.FirstFigureSeconds:F2} s after writing (driver CPU {(usage.DriverCpuSeconds is { } cpu ? $"{cpu:F2} s" : "not read: no --pid")}); " +
                $"used {usage.UsedBytes} bytes, {usage.UsedInodes} inodes; du: {usage.DuBytes} bytes, {usage.DuInodes} inodes");
        string unit = report.Mode switch { "lifecycle" => "lifecycles", "stats" => "stats items", "scale" => "scale items", "snapshot" => "snapshot+restore rounds", _ => "create+delete pairs" };
        output.WriteLine($"run        {report.Mode}: {report.Succeeded}/{report.Count} ok, {report.Failed} failed, {report.Concurrency} clients, {report.SizeBytes} bytes each");
        output.WriteLine($"throughput {report.PerSecond:F1} {unit}/s ({report.Seconds:F2} s)");
        WriteRpcs(output, report.Rpcs);
        if (report.ErrorsByCode.Count > 0)
            output.WriteLine("errors     " + string.Join(", ", report.ErrorsByCode.Select(e => $"{e.Key} {e.Value}")));
        if (report.Memory is { } memory)
            output.WriteLine($"driver RSS {memory.RssBeforeKiB / 1024.0:F1} MiB before, {memory.RssAfterKiB / 1024.0:F1} MiB after (pid {memory.Pid})");
    }

    public static void Write(TextWriter output, StartupReport report, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, ReportJsonContext.Default.StartupReport));
            return;
        }
        output.WriteLine($"start-up to a connectable socket, {report.Runs} runs of {report.Driver}: median {report.MedianMs:F1} ms, min {report.MinMs:F1} ms, max {report.MaxMs:F1} ms");
        output.WriteLine($"start-up to a first answered GetPluginInfo: median {report.AnsweredMedianMs:F1} ms");
    }

    private static void WriteRpcs(TextWriter output, IReadOnlyList<RpcReport> rpcs)
    {
        output.WriteLine($"  {"rpc",-24} {"calls",7} {"errors",7} {"p50 ms",9} {"p99 ms",9} {"max ms",9}");
        foreach (var rpc in rpcs)
            output.WriteLine($"  {rpc.Rpc,-24} {rpc.Calls,7} {rpc.Errors,7} {rpc.P50Ms,9:F2} {rpc.P99Ms,9:F2} {rpc.MaxMs,9:F2}");
    }
}
