using System.Text.Json;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 10 item 4, start-up: after a reboot every recorded publication is stale and start-up rewrites those records.
/// On a full (`mkfs.ext4 -m 0`, filled to the brim) or read-only data dir those writes fail; the driver must start
/// anyway, serve the corrected state from memory and write it once the disk takes it (LaggingRecords, on the next
/// publish or unpublish), never crash-loop.
/// </summary>
public sealed class StartupOnBrokenDiskTests : IAsyncLifetime
{
    private readonly TempRoot _root = new("chp-brokendisk");
    private LoopFileSystem _dataFs = null!;
    private DriverProcess _driver = null!;

    public async Task InitializeAsync()
    {
        _dataFs = LoopFileSystem.Create(_root, "data", 16L << 20);
        _driver = await DriverProcess.StartAsync(_root);
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Theory]
    [InlineData("full")]
    [InlineData("read-only")]
    public async Task Start_AfterRebootOnBrokenDataDir_ServesCorrectedStateAndWritesItLater(string fault)
    {
        string kept = await CreateAsync("kept"), deleted = await CreateAsync("deleted"), idle = await CreateAsync("idle");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(kept, Target("kept")));
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(deleted, Target("deleted")));
        await _driver.KillAsync();
        Mounts.DetachAllBeneath(_root.Combine("targets"));
        string filler = Path.Combine(_dataFs.MountPoint, "filler");
        if (fault == "full")
            FillUp(filler);
        else
            _dataFs.RemountReadOnly();

        await _driver.StartAsync();

        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        Assert.Equal(new[] { deleted, idle, kept }.Order(), listed.Keys.Order());
        Assert.All(listed.Values, e => Assert.False(e.Status.VolumeCondition.Abnormal, e.Status.VolumeCondition.Message));
        // The disk still has the stale publication: the correction is in memory only, for now.
        Assert.Equal(Target("kept"), RecordedTargets(kept).Single());
        if (fault == "read-only")
        {
            var probe = await Assert.ThrowsAsync<RpcException>(async () => await _driver.Client.Identity.ProbeAsync(new ProbeRequest()));
            Assert.Contains("read-only", probe.Status.Detail);
        }

        if (fault == "full")
            File.Delete(filler);
        else
            _dataFs.RemountReadWrite();
        // The stale publication is gone from memory at once: the volume deletes as an unpublished one does.
        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = deleted });
        // The next publish or unpublish writes what lags first.
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(idle, Target("idle")));
        Assert.Empty(RecordedTargets(kept));
        await _driver.RestartAfterKillAsync();
        Assert.Equal(2, (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Count);
        Assert.Equal(Target("idle"), RecordedTargets(idle).Single());
    }

    private IReadOnlyList<string> RecordedTargets(string id)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_driver.DataDir, "volumes", id, "volume.json")));
        return [.. json.RootElement.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("targetPath").GetString()!)];
    }

    /// <summary>Writes until the filesystem (made with -m 0: no blocks kept for root) has not one byte left.</summary>
    private static void FillUp(string path)
    {
        var chunk = new byte[64 << 10];
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
                file.Write(chunk);
        }
        catch (IOException)
        {
        }
        // What is left is less than a chunk: fill it a block at a time.
        try
        {
            while (true)
                file.Write(chunk.AsSpan(0, 1024));
        }
        catch (IOException)
        {
            // ENOSPC to the last block.
        }
    }

    private string Target(string name) => _root.Combine("targets", name);

    private async Task<string> CreateAsync(string name) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume.VolumeId;
}
