using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Bench.Output;
using CsiHostPath.Bench.Stats;
using CsiHostPath.Client;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// What kubelet's once-a-minute stats poll costs on a full volume: one volume published and filled with small files
/// through its mount, as a pod would; then the time until the driver's figure counts them (a walk, for a driver that
/// measures in the background) and the driver's CPU meanwhile; then NodeGetVolumeStats calls timed one by one, each
/// followed by the controller calls the sidecars make meanwhile (<see cref="ControllerProbes"/>).
/// </summary>
public sealed class StatsWorkload(BenchOptions options, PluginFacts plugin, RpcStats stats, string workDir)
{
    private const int FileBytes = 100;
    private static readonly TimeSpan FirstFigureLimit = TimeSpan.FromMinutes(15);

    private readonly VolumeWorkload _volumes = new(options, plugin, stats, workDir);
    private Volume? _volume;
    private string _podDir = "";
    private string _target = "";

    public NodeGetVolumeStatsRequest Request => new() { VolumeId = _volume!.VolumeId, VolumePath = _target };

    public async Task<UsageReport> PrepareAsync(CsiClient client, string name)
    {
        _volume = await _volumes.CreateAsync(client, name);
        _podDir = Path.Combine(workDir, name);
        Directory.CreateDirectory(_podDir);
        _target = await _volumes.MountAsync(client, _volume, _podDir);
        VolumeFill.Fill(_target, options.Files, new byte[FileBytes]);

        double? cpuBefore = options.Pid is { } pid ? ProcessCpu.Seconds(pid) : null;
        var elapsed = Stopwatch.StartNew();
        NodeGetVolumeStatsResponse response;
        while (true)
        {
            response = await StatsAsync(client);
            if (Used(response, VolumeUsage.Types.Unit.Inodes) >= options.Files || elapsed.Elapsed > FirstFigureLimit)
                break;
            await Task.Delay(10);
        }
        double firstFigure = elapsed.Elapsed.TotalSeconds;
        double? cpu = options.Pid is { } driverPid ? ProcessCpu.Seconds(driverPid) - cpuBefore : null;
        return new UsageReport(options.Files, firstFigure, cpu,
            Used(response, VolumeUsage.Types.Unit.Bytes), Used(response, VolumeUsage.Types.Unit.Inodes),
            Du(_target, "-sB1"), Du(_target, "-s", "--inodes"));
    }

    /// <summary>One stats call, timed into <paramref name="timed"/> (the set-up's own calls go to the workload's).</summary>
    public Task<NodeGetVolumeStatsResponse> StatsAsync(CsiClient client, RpcStats timed) =>
        timed.TimeAsync("NodeGetVolumeStats", () => client.Node.NodeGetVolumeStatsAsync(Request));

    /// <summary>A stats call and the sidecars' controller calls beside it: a walk in the background must hold up none of them.</summary>
    public async Task ItemAsync(CsiClient client, RpcStats timed)
    {
        await StatsAsync(client, timed);
        await ControllerProbes.RunAsync(client, timed, _volume!.VolumeId);
    }

    private Task<NodeGetVolumeStatsResponse> StatsAsync(CsiClient client) => StatsAsync(client, stats);

    public async Task CleanupAsync(CsiClient client)
    {
        await _volumes.UnmountAsync(client, _volume!, _podDir, _target);
        await _volumes.DeleteVolumeAsync(client, _volume!);
        WorkDirectory.RemoveIfEmpty(_podDir);
    }

    private static long Used(NodeGetVolumeStatsResponse response, VolumeUsage.Types.Unit unit) =>
        response.Usage.FirstOrDefault(u => u.Unit == unit)?.Used ?? 0;

    /// <summary>What du says the volume takes, seen through its mount: the figure a correct driver reports.</summary>
    private static long Du(string path, params string[] args)
    {
        var start = new ProcessStartInfo("du") { RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add(path);
        using var du = Process.Start(start)!;
        string output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0]);
    }
}
