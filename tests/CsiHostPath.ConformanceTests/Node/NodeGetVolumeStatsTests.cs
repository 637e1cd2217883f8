using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Node;

/// <summary>Spec "NodeGetVolumeStats" (GET_VOLUME_STATS, VOLUME_CONDITION): usage of the volume at the path it is published at.</summary>
public sealed class NodeGetVolumeStatsTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Node.NodeClient Node => endpoint.Client.Node;

    [Fact]
    public async Task NodeGetVolumeStats_Published_ReportsBytesAndInodesWithinCapacity()
    {
        Assert.Contains(NodeCapability.GetVolumeStats, endpoint.NodeCapabilities);
        var (volume, target) = await PublishedAsync("stats");

        var stats = await Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target });

        var bytes = Assert.Single(stats.Usage, u => u.Unit == VolumeUsage.Types.Unit.Bytes);
        Assert.True(bytes.Total > 0);
        Assert.InRange(bytes.Used + bytes.Available, 0, bytes.Total);
        Assert.Contains(stats.Usage, u => u.Unit == VolumeUsage.Types.Unit.Inodes);
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeGetVolumeStats_AfterWritingAFile_UsedGrowsByItsSize()
    {
        var (volume, target) = await PublishedAsync("stats-grow");
        var request = new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target };
        long before = Bytes(await Node.NodeGetVolumeStatsAsync(request)).Used;

        await using (var file = new FileStream(Path.Combine(target, "blob"), FileMode.CreateNew))
        {
            await file.WriteAsync(new byte[256 * 1024]);
            file.Flush(flushToDisk: true);
        }

        // The spec does not say how fresh usage is; a driver may measure in the background (this one does), so the
        // write must show up within kubelet's stats period, not on the very next call.
        long after = before;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (after - before < 256 * 1024 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            after = Bytes(await Node.NodeGetVolumeStatsAsync(request)).Used;
        }
        Assert.True(after - before >= 256 * 1024, $"used went from {before} to {after} after writing 256 KiB");
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeGetVolumeStats_HealthyVolume_ConditionNotAbnormal()
    {
        Assert.Contains(NodeCapability.VolumeCondition, endpoint.NodeCapabilities);
        var (volume, target) = await PublishedAsync("stats-condition");

        var stats = await Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target });

        Assert.NotNull(stats.VolumeCondition);
        Assert.False(stats.VolumeCondition.Abnormal, stats.VolumeCondition.Message);
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeGetVolumeStats_UnknownVolume_NotFound()
    {
        await CsiAssert.FailsWith(StatusCode.NotFound, () => Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest
        {
            VolumeId = "0123456789abcdef0123456789abcdef",
            VolumePath = endpoint.TargetRoot,
        }));
    }

    [Fact]
    public async Task NodeGetVolumeStats_PathWhereVolumeIsNotPublished_NotFound()
    {
        var (volume, target) = await PublishedAsync("stats-elsewhere");

        await CsiAssert.FailsWith(StatusCode.NotFound, () => Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest
        {
            VolumeId = volume.VolumeId,
            VolumePath = endpoint.TargetRoot,
        }));
        await UnpublishAsync(volume, target);
    }

    [Fact]
    public async Task NodeGetVolumeStats_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumePath = endpoint.TargetRoot }), "volume_id");
    }

    [Fact]
    public async Task NodeGetVolumeStats_NoVolumePath_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("stats-nopath");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId }), "volume_path");
    }

    private static VolumeUsage Bytes(NodeGetVolumeStatsResponse stats) => stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes);

    private async Task<(Volume Volume, string Target)> PublishedAsync(string label)
    {
        var volume = await endpoint.CreateVolumeAsync(label, requiredBytes: 8 << 20);
        string target = endpoint.NewTargetWithParent(label);
        await Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));
        return (volume, target);
    }

    private Task UnpublishAsync(Volume volume, string target) =>
        Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target)).ResponseAsync;
}
