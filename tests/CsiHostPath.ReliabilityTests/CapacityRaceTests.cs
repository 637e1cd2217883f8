using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 10 item 5: parallel CreateVolumes and ControllerExpandVolumes of image volumes racing for the last bytes of a
/// small data dir (ext4 -m 0 on a loop device of the test's own, so its free space is only what the driver does).
/// What the driver promises must fit on the disk: an image that does not would fail its pod's writes later.
/// </summary>
public sealed class CapacityRaceTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    private readonly TempRoot _root = new("chp-race");
    private DriverProcess _driver = null!;

    public async Task InitializeAsync()
    {
        LoopFileSystem.Create(_root, "data", 192 * MiB);
        _driver = await DriverProcess.StartAsync(_root);
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task CreateVolume_ParallelImagesForTheLastBytes_PromiseNoMoreThanIsFree()
    {
        long free = await CapacityAsync();
        long size = free / 5 * 2 / MiB * MiB;

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Outcome(
            _driver.Client.Controller.CreateVolumeAsync(Requests.Create($"race-{i}", size, Image)).ResponseAsync)));

        int created = results.Count(r => r is null);
        Assert.InRange(created, 1, 2);
        Assert.All(results.OfType<RpcException>(), e => Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode));
        Assert.True(created * size <= free, $"{created} volumes of {size} bytes were promised with {free} bytes free");
        Assert.True(await CapacityAsync() < size, "the capacity left after the race would take another volume");
    }

    [Fact]
    public async Task ControllerExpandVolume_ParallelGrowthsForTheLastBytes_PromiseNoMoreThanIsFree()
    {
        var volumes = new[] { await CreateAsync("grow-0", 16 * MiB), await CreateAsync("grow-1", 16 * MiB) };
        long free = await CapacityAsync();
        long growth = free / 5 * 3 / MiB * MiB;

        var results = await Task.WhenAll(volumes.Select(id => Outcome(_driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = id,
            CapacityRange = new CapacityRange { RequiredBytes = 16 * MiB + growth },
        }).ResponseAsync)));

        Assert.Equal(1, results.Count(r => r is null));
        var refused = Assert.Single(results.OfType<RpcException>());
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
    }

    private static async Task<RpcException?> Outcome<T>(Task<T> call)
    {
        try
        {
            await call;
            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }

    private async Task<string> CreateAsync(string name, long bytes) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name, bytes, Image))).Volume.VolumeId;

    private async Task<long> CapacityAsync() =>
        (await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest { Parameters = { Image } })).AvailableCapacity;
}
