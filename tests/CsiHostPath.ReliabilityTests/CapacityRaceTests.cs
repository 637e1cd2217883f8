using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 10 item 5: parallel CreateVolumes and ControllerExpandVolumes of image volumes racing for the last bytes of a
/// small data dir (ext4 -m 0 on a loop device of the test's own, so its free space is only what the driver does).
/// What the driver promises must fit on the disk: an image that does not would fail its pod's writes later.
/// Issue 13: snapshots and restores racing the same way. ext4 shares no blocks, so each copy takes what its source
/// holds, and a copy that started without room would fill the disk under the other.
/// </summary>
public sealed class CapacityRaceTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    private static readonly Dictionary<string, string> DirectoryBacking = new();
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

    /// <summary>
    /// Two directory volumes each holding X bytes, room for one copy of X and not two: of two parallel CreateSnapshots,
    /// one is refused by the claim before it copies anything (its message names the bytes free, not ENOSPC) and the
    /// other completes; the free space drops by what the snapshot holds, which GetCapacity reports.
    /// </summary>
    [Fact]
    public async Task CreateSnapshot_ParallelCopiesForTheLastBytes_OneIsRefusedBeforeCopying_AndNothingIsLeft()
    {
        string[] volumes = [await CreateAsync("snap-src-0", MiB, DirectoryBacking), await CreateAsync("snap-src-1", MiB, DirectoryBacking)];
        long chunk = await CapacityAsync() * 2 / 7 / MiB * MiB;
        foreach (var volumeId in volumes)
            Fill(volumeId, chunk);
        long before = await CapacityAsync();
        Assert.InRange(before, chunk + 4 * MiB, 2 * chunk - 4 * MiB);

        var results = await Task.WhenAll(volumes.Select((id, i) => Outcome(_driver.Client.Controller.CreateSnapshotAsync(
            new CreateSnapshotRequest { Name = $"race-snap-{i}", SourceVolumeId = id }).ResponseAsync)));

        var refused = Assert.Single(results.OfType<RpcException>());
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("bytes are free", refused.Status.Detail);
        var snapshot = Assert.Single((await _driver.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest())).Entries).Snapshot;
        Assert.InRange(snapshot.SizeBytes, chunk, chunk + MiB);
        AssertNothingStaged();
        Assert.InRange(before - await CapacityAsync(), snapshot.SizeBytes, snapshot.SizeBytes + MiB);
    }

    /// <summary>
    /// The same race between two restores (CreateVolume from a snapshot): the claim covers the bytes the copy will
    /// write, not only the new volume's size, so the second restore is refused before it copies.
    /// </summary>
    [Fact]
    public async Task CreateVolume_ParallelRestoresForTheLastBytes_OneIsRefusedBeforeCopying_AndNothingIsLeft()
    {
        string[] volumes = [await CreateAsync("restore-src-0", MiB, DirectoryBacking), await CreateAsync("restore-src-1", MiB, DirectoryBacking)];
        long chunk = await CapacityAsync() * 2 / 11 / MiB * MiB;
        var snapshots = new List<string>();
        foreach (var (volumeId, i) in volumes.Select((id, i) => (id, i)))
        {
            Fill(volumeId, chunk);
            snapshots.Add((await _driver.Client.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = $"restore-snap-{i}", SourceVolumeId = volumeId })).Snapshot.SnapshotId);
        }
        long before = await CapacityAsync();
        Assert.InRange(before, chunk + 4 * MiB, 2 * chunk - 4 * MiB);

        var results = await Task.WhenAll(snapshots.Select((id, i) =>
        {
            var request = Requests.Create($"restored-{i}", MiB);
            request.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = id } };
            return Outcome(_driver.Client.Controller.CreateVolumeAsync(request).ResponseAsync);
        }));

        var refused = Assert.Single(results.OfType<RpcException>());
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("bytes copied from its source does not fit", refused.Status.Detail);
        Assert.Equal(3, (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Count);
        AssertNothingStaged();
        Assert.InRange(before - await CapacityAsync(), chunk, chunk + MiB);
    }

    private void Fill(string volumeId, long bytes)
    {
        var noise = new byte[MiB];
        Random.Shared.NextBytes(noise);
        using var file = new FileStream(Path.Combine(_driver.DataDir, "volumes", volumeId, "data", "noise"), FileMode.CreateNew);
        for (long written = 0; written < bytes; written += MiB)
            file.Write(noise);
        file.Flush(flushToDisk: true);
    }

    private void AssertNothingStaged() => Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_driver.DataDir, ".staging")));

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

    private async Task<string> CreateAsync(string name, long bytes, Dictionary<string, string>? parameters = null) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name, bytes, parameters ?? Image))).Volume.VolumeId;

    private async Task<long> CapacityAsync() =>
        (await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest { Parameters = { Image } })).AvailableCapacity;
}
