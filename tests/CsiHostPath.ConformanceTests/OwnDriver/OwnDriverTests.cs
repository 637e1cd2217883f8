using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ConformanceTests.OwnDriver;

/// <summary>
/// What only csi-hostpath itself can show: its flags reach the RPCs, volumes are directories in its data dir, Probe
/// watches that dir, and state survives a kill -9 and restart. Skipped when CSI_ENDPOINT points elsewhere.
/// </summary>
public sealed class OwnDriverTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private DriverProcess Driver => endpoint.Driver;

    [OwnDriverFact]
    public async Task GetPluginInfo_DefaultFlags_DriverNameAndNodeTopology()
    {
        var info = await Driver.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        var node = await Driver.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());

        Assert.Equal(DriverProcess.DriverName, info.Name);
        Assert.Equal(DriverProcess.NodeId, node.NodeId);
        Assert.Equal(DriverProcess.NodeId, node.AccessibleTopology.Segments[DriverProcess.TopologyKey]);
        Assert.Equal(0, node.MaxVolumesPerNode);
    }

    [OwnDriverFact]
    public async Task CreateVolume_NoCapacityRange_GetsTheDefaultVolumeSizeFlagsValue()
    {
        var request = endpoint.Requests.Create(VolumeNames.New("default-size"));
        request.CapacityRange = null;

        var volume = (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume;

        // --default-volume-size's default, which README.md documents.
        Assert.Equal(1L << 30, volume.CapacityBytes);
    }

    [OwnDriverFact]
    public async Task CreateVolume_NewVolume_DirectoryAndRecordUnderDataDirNamedByNameHashAndNodeTag()
    {
        string name = VolumeNames.New("on-disk");

        var volume = (await Driver.Client.Controller.CreateVolumeAsync(endpoint.Requests.Create(name))).Volume;

        Assert.Equal(ExpectedVolumeId.For(name), volume.VolumeId);
        Assert.True(Directory.Exists(DataPath(volume.VolumeId)));
        Assert.Contains(name, await File.ReadAllTextAsync(Path.Combine(Driver.DataDir, "volumes", volume.VolumeId, "volume.json")));
    }

    [OwnDriverFact]
    public async Task NodePublishVolume_TargetParentMissing_FailedPreconditionNamingIt_AndNothingMade()
    {
        // kubelet MkdirAlls the parent before every publish (csi_mounter.go SetUpAt; csi_block.go publishVolumeForBlock):
        // a parent the driver cannot see means kubelet's dir is not mounted into its container, as with a raw block
        // volume under <kubelet dir>/plugins before the DaemonSet mounted that dir.
        var volume = await endpoint.CreateVolumeAsync("no-parent");
        string parent = Path.Combine(endpoint.TargetRoot, "plugins-not-mounted-" + Guid.NewGuid().ToString("N")[..8]);
        string target = Path.Combine(parent, "pod-uid");

        await CsiAssert.FailsWith(StatusCode.FailedPrecondition,
            () => Driver.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target)), parent);

        Assert.False(Directory.Exists(parent), "a parent made by the driver would hold a mount the host never sees");
    }

    [OwnDriverFact]
    public async Task DeleteVolume_Existing_DirectoryGoneFromDataDir()
    {
        var volume = await endpoint.CreateVolumeAsync("rm-on-disk");

        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });

        Assert.False(Directory.Exists(Path.Combine(Driver.DataDir, "volumes", volume.VolumeId)));
    }

    [OwnDriverFact]
    public async Task NodePublishVolume_WriteThroughTarget_LandsInVolumeDataDir()
    {
        var volume = await endpoint.CreateVolumeAsync("bind");
        string target = endpoint.NewTargetWithParent("bind");

        await Driver.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(volume.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "through-mount"), "bound");

        Assert.Equal("bound", await File.ReadAllTextAsync(Path.Combine(DataPath(volume.VolumeId), "through-mount")));
        await Driver.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(volume.VolumeId, target));
    }

    [OwnDriverFact]
    public async Task Probe_VolumesDirMissing_FailedPreconditionUntilItIsBack()
    {
        string volumes = Path.Combine(Driver.DataDir, "volumes");
        string aside = Path.Combine(Driver.DataDir, "volumes-aside");
        Directory.Move(volumes, aside);
        try
        {
            await CsiAssert.FailsWith(StatusCode.FailedPrecondition, () => Driver.Client.Identity.ProbeAsync(new ProbeRequest()));
        }
        finally
        {
            Directory.Move(aside, volumes);
        }

        var probe = await Driver.Client.Identity.ProbeAsync(new ProbeRequest());
        Assert.True(probe.Ready);
    }

    /// <summary>On a node harness of its own: the restart is in a fresh mount namespace, as after a container restart.</summary>
    [OwnDriverFact]
    public async Task Restart_AfterKill_VolumesPublicationsAndListTokensSurvive()
    {
        using var root = new TempRoot("conf-node");
        await using var node = await DriverProcess.StartOnNodeAsync(root);
        var published = await CreateAsync(node, "restart-published");
        var others = new[] { await CreateAsync(node, "restart-a"), await CreateAsync(node, "restart-b") };
        string target = Path.Combine(node.PodsDir, "restart", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await node.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(published.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "before-crash"), "kept");
        var firstPage = await node.Client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 1 });

        await node.RestartAfterKillAsync();

        var rest = await node.Client.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = firstPage.NextToken });
        var seen = firstPage.Entries.Concat(rest.Entries).Select(e => e.Volume.VolumeId).ToList();
        foreach (var volume in others.Append(published))
            Assert.Single(seen, id => id == volume.VolumeId);
        Assert.True(Mounts.IsMountPoint(target));
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(target, "before-crash")));
        await node.Client.Node.NodePublishVolumeAsync(endpoint.Requests.Publish(published.VolumeId, target));
        Assert.Single(Mounts.Beneath(target));
        await CsiAssert.FailsWith(StatusCode.FailedPrecondition,
            () => node.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = published.VolumeId }));
        await node.Client.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(published.VolumeId, target));
    }

    private async Task<Volume> CreateAsync(DriverProcess driver, string label) =>
        (await driver.Client.Controller.CreateVolumeAsync(endpoint.Requests.Create(VolumeNames.New(label)))).Volume;

    private string DataPath(string volumeId) => Path.Combine(Driver.DataDir, "volumes", volumeId, "data");
}
