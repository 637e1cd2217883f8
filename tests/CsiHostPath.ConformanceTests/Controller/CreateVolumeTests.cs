using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>Spec "CreateVolume": the volume asked for, idempotency by name, and the error table.</summary>
public sealed class CreateVolumeTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task CreateVolume_RequiredBytes_VolumeHasAtLeastThatCapacityOnThisNode()
    {
        var volume = (await Controller.CreateVolumeAsync(endpoint.Requests.Create(VolumeNames.New("size"), requiredBytes: 3 << 20))).Volume;

        Assert.NotEmpty(volume.VolumeId);
        Assert.True(volume.CapacityBytes >= 3 << 20, $"capacity {volume.CapacityBytes} is below the 3 MiB required");
        Assert.Contains(volume.AccessibleTopology, t => t.Equals(endpoint.NodeTopology));
    }

    [Fact]
    public async Task CreateVolume_RequiredAndLimit_CapacityWithinRange()
    {
        var volume = (await Controller.CreateVolumeAsync(
            endpoint.Requests.Create(VolumeNames.New("range"), requiredBytes: 2 << 20, limitBytes: 4 << 20))).Volume;

        Assert.InRange(volume.CapacityBytes, 2 << 20, 4 << 20);
    }

    [Fact]
    public async Task CreateVolume_OnlyLimit_CapacityAtMostLimit()
    {
        var volume = (await Controller.CreateVolumeAsync(
            endpoint.Requests.Create(VolumeNames.New("limit"), requiredBytes: 0, limitBytes: 5 << 20))).Volume;

        Assert.InRange(volume.CapacityBytes, 1, 5 << 20);
    }

    [Fact]
    public async Task CreateVolume_NoCapacityRange_GetsAPositiveDefault()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("default"));
        request.CapacityRange = null;

        var volume = (await Controller.CreateVolumeAsync(request)).Volume;

        Assert.True(volume.CapacityBytes > 0, "a volume without capacity_range still has a size (0 means unknown)");
    }

    [Fact]
    public async Task CreateVolume_SameNameSameArguments_ReturnsSameVolume()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("idempotent"));

        var first = (await Controller.CreateVolumeAsync(request)).Volume;
        var second = (await Controller.CreateVolumeAsync(request)).Volume;

        Assert.Equal(first.VolumeId, second.VolumeId);
        Assert.Equal(first.CapacityBytes, second.CapacityBytes);
        var listed = await ListedIdsAsync();
        Assert.Single(listed, id => id == first.VolumeId);
    }

    [Fact]
    public async Task CreateVolume_SameNameLargerRequired_AlreadyExists()
    {
        string name = VolumeNames.New("grow");
        var existing = (await Controller.CreateVolumeAsync(endpoint.Requests.Create(name, requiredBytes: 1 << 20, limitBytes: 1 << 20))).Volume;

        await CsiAssert.FailsWith(StatusCode.AlreadyExists,
            () => Controller.CreateVolumeAsync(endpoint.Requests.Create(name, requiredBytes: 8 << 20)));

        var after = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = existing.VolumeId });
        Assert.Equal(existing.CapacityBytes, after.Volume.CapacityBytes);
    }

    [Fact]
    public async Task CreateVolume_SameNameLimitBelowExisting_AlreadyExists()
    {
        string name = VolumeNames.New("shrink");
        await Controller.CreateVolumeAsync(endpoint.Requests.Create(name, requiredBytes: 4 << 20, limitBytes: 4 << 20));

        await CsiAssert.FailsWith(StatusCode.AlreadyExists,
            () => Controller.CreateVolumeAsync(endpoint.Requests.Create(name, requiredBytes: 1 << 20, limitBytes: 2 << 20)));
    }

    [Fact]
    public async Task CreateVolume_NoName_InvalidArgumentNamingName()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateVolumeAsync(endpoint.Requests.Create("")), "name");
    }

    [Fact]
    public async Task CreateVolume_NoVolumeCapabilities_InvalidArgumentNamingField()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("nocaps"));
        request.VolumeCapabilities.Clear();

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateVolumeAsync(request), "volume_capabilities");
        await AssertCorrectedRetryCreatesAsync(request.Name);
    }

    [Fact]
    public async Task CreateVolume_CapabilityWithoutAccessMode_InvalidArgument()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("nomode"));
        request.VolumeCapabilities[0].AccessMode = null;

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateVolumeAsync(request), "access_mode");
    }

    [Fact]
    public async Task CreateVolume_RequiredAboveLimit_OutOfRange()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("inverted"), requiredBytes: 4 << 20, limitBytes: 1 << 20);

        await CsiAssert.FailsWith(StatusCode.OutOfRange, () => Controller.CreateVolumeAsync(request));
        await AssertCorrectedRetryCreatesAsync(request.Name);
    }

    [Fact]
    public async Task CreateVolume_RequisiteTopologyExcludesNode_ResourceExhausted()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("elsewhere"));
        var elsewhere = new Topology();
        foreach (var key in endpoint.NodeTopology.Segments.Keys)
            elsewhere.Segments[key] = "not-" + endpoint.NodeTopology.Segments[key];
        request.AccessibilityRequirements = new TopologyRequirement { Requisite = { elsewhere }, Preferred = { elsewhere } };

        await CsiAssert.FailsWith(StatusCode.ResourceExhausted, () => Controller.CreateVolumeAsync(request));
    }

    [Fact]
    public async Task CreateVolume_RequisiteListsThisNodeAmongOthers_CreatedHere()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("among"));
        var other = endpoint.NodeTopology.Clone();
        foreach (var key in other.Segments.Keys.ToList())
            other.Segments[key] = "other-" + other.Segments[key];
        request.AccessibilityRequirements.Requisite.Insert(0, other);

        var volume = (await Controller.CreateVolumeAsync(request)).Volume;

        Assert.Contains(volume.AccessibleTopology, t => t.Equals(endpoint.NodeTopology));
    }

    [Fact]
    public async Task CreateVolume_VolumeContentSource_ClonesWhenAdvertisedElseInvalidArgument()
    {
        var source = await endpoint.CreateVolumeAsync("source");
        var request = endpoint.Requests.Create(VolumeNames.New("clone"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = source.VolumeId },
        };

        if (!endpoint.ControllerCapabilities.Contains(ControllerCapability.CloneVolume))
        {
            // Spec: a plugin that cannot create from the requested source MUST say INVALID_ARGUMENT.
            await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateVolumeAsync(request), "volume_content_source");
            return;
        }
        var clone = (await Controller.CreateVolumeAsync(request)).Volume;
        // Spec, Volume.content_source: the source MUST be reported back when the volume was created from one.
        Assert.Equal(source.VolumeId, clone.ContentSource.Volume.VolumeId);
        Assert.NotEqual(source.VolumeId, clone.VolumeId);
    }

    [Fact]
    public async Task CreateVolume_MissingSourceVolume_NotFoundOrInvalidArgumentWithoutClones()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("clone-missing"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = "0123456789abcdef0123456789abcdef" },
        };

        var expected = endpoint.ControllerCapabilities.Contains(ControllerCapability.CloneVolume) ? StatusCode.NotFound : StatusCode.InvalidArgument;
        await CsiAssert.FailsWith(expected, () => Controller.CreateVolumeAsync(request));
    }

    [Fact]
    public async Task CreateVolume_NewVolume_VisibleThroughControllerGetVolumeAndListVolumes()
    {
        var volume = await endpoint.CreateVolumeAsync("visible");

        var fetched = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(volume.CapacityBytes, fetched.Volume.CapacityBytes);
        Assert.Contains(volume.VolumeId, await ListedIdsAsync());
    }

    private async Task<IReadOnlyList<string>> ListedIdsAsync() =>
        (await Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Select(e => e.Volume.VolumeId).ToList();

    /// <summary>
    /// A refused create left nothing behind under its name: the CO's corrected retry, asking for exactly 1 MiB, gets a
    /// volume of exactly that size rather than ALREADY_EXISTS against a half-made one.
    /// </summary>
    private async Task AssertCorrectedRetryCreatesAsync(string name)
    {
        var volume = (await Controller.CreateVolumeAsync(endpoint.Requests.Create(name, requiredBytes: 1 << 20, limitBytes: 1 << 20))).Volume;
        Assert.Equal(1 << 20, volume.CapacityBytes);
    }
}
