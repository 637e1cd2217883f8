using Csi.V1;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Bench.Stats;
using CsiHostPath.Client;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// The calls whose cost must not grow with the volumes a node already has (run after --prefill): per item a
/// CreateVolume and DeleteVolume of a new volume, a ControllerGetVolume of an existing one, a GetCapacity, and a
/// NodeGetVolumeStats of a published directory volume and, with --prefill-images, of a published image volume.
/// </summary>
public sealed class ScaleWorkload(BenchOptions options, PluginFacts plugin, RpcStats stats, string workDir)
{
    private readonly VolumeWorkload _volumes = new(options, plugin, stats, workDir);
    private readonly VolumeWorkload _setUp = new(options, plugin, new RpcStats(), workDir);
    private readonly List<(Volume Volume, string PodDir, string Target, string Rpc)> _published = [];
    private IReadOnlyList<string> _existing = [];

    /// <summary>Publishes the probes, untimed, and takes the ids of up to 100 existing volumes for ControllerGetVolume.</summary>
    public async Task PrepareAsync(CsiClient client, string runId)
    {
        await PublishAsync(client, await _setUp.CreateAsync(client, $"bench-{runId}-probe"), "NodeGetVolumeStats");
        if (options.PrefillImages > 0)
        {
            var image = new VolumeWorkload(options with { Parameters = Benchmark.ImageParameters(options) }, plugin, new RpcStats(), workDir);
            await PublishAsync(client, await image.CreateAsync(client, Benchmark.PrefillName(0)), "NodeGetVolumeStats (image)");
        }
        var page = await client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 100 });
        _existing = [.. page.Entries.Select(e => e.Volume.VolumeId)];
    }

    public async Task ItemAsync(CsiClient client, string name, int i)
    {
        var volume = await _volumes.CreateAsync(client, name);
        await ControllerProbes.RunAsync(client, stats, _existing.Count > 0 ? _existing[i % _existing.Count] : volume.VolumeId);
        foreach (var (published, _, target, rpc) in _published)
        {
            await stats.TimeAsync(rpc, () => client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest
            {
                VolumeId = published.VolumeId,
                VolumePath = target,
            }));
        }
        await _volumes.DeleteVolumeAsync(client, volume);
    }

    /// <summary>Unpublishes the probes and deletes the one made for the run; the prefilled image volume stays.</summary>
    public async Task CleanupAsync(CsiClient client)
    {
        foreach (var (volume, podDir, target, _) in _published)
        {
            await _setUp.UnmountAsync(client, volume, podDir, target);
            WorkDirectory.RemoveIfEmpty(podDir);
        }
        await _setUp.DeleteVolumeAsync(client, _published[0].Volume);
    }

    private async Task PublishAsync(CsiClient client, Volume volume, string rpc)
    {
        string podDir = Path.Combine(workDir, $"probe-{_published.Count}");
        Directory.CreateDirectory(podDir);
        _published.Add((volume, podDir, await _setUp.MountAsync(client, volume, podDir), rpc));
    }
}
