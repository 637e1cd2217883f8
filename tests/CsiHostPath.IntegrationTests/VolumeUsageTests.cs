using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// NodeGetVolumeStats of a directory volume answers from the last background walk: a call costs the same whatever the
/// volume holds, and the figure follows the data within --usage-refresh-interval.
/// </summary>
public sealed class VolumeUsageTests : IAsyncLifetime
{
    private readonly TempRoot _root = new();
    private DriverProcess? _driver;

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Stats_WithinTheRefreshInterval_AnswerTheLastWalk_NotANewOne()
    {
        var (stats, target) = await PublishedAsync("1h");
        await WriteAsync(target, "a", 1 << 20);
        long first = await UsedAtLeastAsync(stats, 1 << 20);

        await WriteAsync(target, "b", 4 << 20);

        // The figure is an hour from due: this call must not walk the tree, so it cannot have seen b.
        Assert.Equal(first, Used(await _driver!.Client.Node.NodeGetVolumeStatsAsync(stats)));
    }

    [Fact]
    public async Task Stats_AfterTheRefreshInterval_CountWhatWasWrittenSince()
    {
        var (stats, target) = await PublishedAsync("200ms");
        await WriteAsync(target, "a", 1 << 20);
        await UsedAtLeastAsync(stats, 1 << 20);

        await WriteAsync(target, "b", 4 << 20);

        await UsedAtLeastAsync(stats, 5 << 20);
    }

    private async Task<(NodeGetVolumeStatsRequest Stats, string Target)> PublishedAsync(string refreshInterval)
    {
        _driver = await DriverProcess.StartAsync(_root, "--usage-refresh-interval", refreshInterval);
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-usage", 64 << 20))).Volume;
        string target = _root.Combine("pods", "p1", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        return (new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target }, target);
    }

    private static async Task WriteAsync(string target, string name, int bytes)
    {
        await using var file = new FileStream(Path.Combine(target, name), FileMode.CreateNew);
        await file.WriteAsync(new byte[bytes]);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Asks until the walk the asks queue has counted at least <paramref name="bytes"/>, as kubelet keeps asking.</summary>
    private async Task<long> UsedAtLeastAsync(NodeGetVolumeStatsRequest stats, long bytes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            long used = Used(await _driver!.Client.Node.NodeGetVolumeStatsAsync(stats));
            if (used >= bytes)
                return used;
            Assert.True(DateTime.UtcNow < deadline, $"used stayed at {used}, below the {bytes} bytes written");
            await Task.Delay(50);
        }
    }

    private static long Used(NodeGetVolumeStatsResponse response) =>
        response.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Used;

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        _root.Dispose();
    }
}
