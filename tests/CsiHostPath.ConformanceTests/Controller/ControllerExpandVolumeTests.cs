using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>
/// Spec "ControllerExpandVolume" (EXPAND_VOLUME, plugin VolumeExpansion) on volumes made with no parameters, i.e. the
/// driver's default backing: grows to at least required_bytes, reports it, repeats idempotently, never shrinks.
/// </summary>
public sealed class ControllerExpandVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private const long MiB = 1 << 20;

    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task ControllerGetCapabilities_ExpandVolume_WithPluginVolumeExpansion()
    {
        var plugin = await endpoint.Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());

        Assert.Contains(ControllerCapability.ExpandVolume, endpoint.ControllerCapabilities);
        // Spec: a plugin that expands volumes says whether ONLINE or OFFLINE in GetPluginCapabilities.
        Assert.Contains(plugin.Capabilities, c => c.VolumeExpansion is { } e && e.Type != PluginCapability.Types.VolumeExpansion.Types.Type.Unknown);
    }

    [Fact]
    public async Task ControllerExpandVolume_Larger_CapacityAtLeastRequiredAndGetVolumeReportsIt()
    {
        var volume = await endpoint.CreateVolumeAsync("expand", 2 * MiB);

        var expanded = await Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 6 * MiB));

        Assert.True(expanded.CapacityBytes >= 6 * MiB, $"capacity_bytes {expanded.CapacityBytes}");
        var got = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(expanded.CapacityBytes, got.Volume.CapacityBytes);
    }

    [Fact]
    public async Task ControllerExpandVolume_SameRequestTwice_SameCapacity()
    {
        var volume = await endpoint.CreateVolumeAsync("expand-twice", 2 * MiB);

        var first = await Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 4 * MiB));
        var second = await Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 4 * MiB));

        Assert.Equal(first.CapacityBytes, second.CapacityBytes);
        Assert.Equal(first.NodeExpansionRequired, second.NodeExpansionRequired);
    }

    [Fact]
    public async Task ControllerExpandVolume_RequiredBelowCurrent_OkWithCurrentCapacity()
    {
        var volume = await endpoint.CreateVolumeAsync("expand-below", 4 * MiB);

        var response = await Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 2 * MiB));

        Assert.Equal(volume.CapacityBytes, response.CapacityBytes);
        var got = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(volume.CapacityBytes, got.Volume.CapacityBytes);
    }

    [Fact]
    public async Task ControllerExpandVolume_LimitBelowCurrent_OutOfRangeAndUnchanged()
    {
        var volume = await endpoint.CreateVolumeAsync("expand-shrink", 4 * MiB);

        await CsiAssert.FailsWith(StatusCode.OutOfRange, () => Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 1 * MiB, limitBytes: 2 * MiB)));

        var got = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(volume.CapacityBytes, got.Volume.CapacityBytes);
    }

    [Fact]
    public async Task ControllerExpandVolume_CapabilityTheVolumeCannotHonour_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("expand-block");
        var request = Expand(volume.VolumeId, 4 * MiB);
        // A volume made with a mount capability is not a block volume; spec "Exceeds capabilities" is INVALID_ARGUMENT here.
        request.VolumeCapability = VolumeRequests.BlockCapability();

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.ControllerExpandVolumeAsync(request), "volume_capability");
    }

    [Fact]
    public async Task ControllerExpandVolume_UnknownVolume_NotFound()
    {
        await CsiAssert.FailsWith(StatusCode.NotFound, () => Controller.ControllerExpandVolumeAsync(Expand("0123456789abcdef0123456789abcdef", 4 * MiB)));
    }

    [Fact]
    public async Task ControllerExpandVolume_NoVolumeId_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.ControllerExpandVolumeAsync(Expand("", 4 * MiB)), "volume_id");
    }

    [Fact]
    public async Task ControllerExpandVolume_NoCapacityRange_InvalidArgumentNamingField()
    {
        var volume = await endpoint.CreateVolumeAsync("expand-norange");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest { VolumeId = volume.VolumeId }), "capacity_range");
    }

    private ControllerExpandVolumeRequest Expand(string volumeId, long requiredBytes, long limitBytes = 0) =>
        new()
        {
            VolumeId = volumeId,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes, LimitBytes = limitBytes },
            VolumeCapability = endpoint.Requests.Capability(),
        };
}
