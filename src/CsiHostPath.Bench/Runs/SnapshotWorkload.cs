using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Bench.Stats;
using CsiHostPath.Client;

namespace CsiHostPath.Bench.Runs;

/// <summary>
/// What a snapshot and a restore cost on a full volume: one volume of --size published and filled through its mount
/// with --files files sharing 90% of it (random bytes, on disk before the first call), then --count rounds of
/// CreateSnapshot and CreateVolume from that snapshot, each timed; the restored volume and the snapshot are deleted,
/// untimed, after each round.
/// </summary>
public sealed class SnapshotWorkload(BenchOptions options, PluginFacts plugin, RpcStats stats, string workDir)
{
    private readonly VolumeWorkload _setUp = new(options, plugin, new RpcStats(), workDir);
    private readonly VolumeWorkload _restores = new(options, plugin, stats, workDir);
    private Volume? _volume;
    private string _podDir = "";
    private string _target = "";

    public async Task PrepareAsync(CsiClient client, string name)
    {
        _volume = await _setUp.CreateAsync(client, name);
        _podDir = Path.Combine(workDir, name);
        Directory.CreateDirectory(_podDir);
        _target = await _setUp.MountAsync(client, _volume, _podDir);
        var content = new byte[options.SizeBytes * 9 / 10 / Math.Max(1, options.Files)];
        Random.Shared.NextBytes(content);
        VolumeFill.Fill(_target, options.Files, content);
        using var sync = Process.Start("sync", ["-f", _target]);
        await sync.WaitForExitAsync();
    }

    /// <summary>One round: the snapshot and the restore timed, both deleted after.</summary>
    public async Task RoundAsync(CsiClient client, string name)
    {
        var snapshot = (await stats.TimeAsync("CreateSnapshot", () => client.Controller.CreateSnapshotAsync(
            new CreateSnapshotRequest { Name = name, SourceVolumeId = _volume!.VolumeId }))).Snapshot;
        var restored = await _restores.CreateAsync(client, name + "-restored",
            new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId } });
        await _setUp.DeleteVolumeAsync(client, restored);
        await client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
    }

    public async Task CleanupAsync(CsiClient client)
    {
        await _setUp.UnmountAsync(client, _volume!, _podDir, _target);
        await _setUp.DeleteVolumeAsync(client, _volume!);
        WorkDirectory.RemoveIfEmpty(_podDir);
    }
}
