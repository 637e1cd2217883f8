using CsiHostPath.Client;
using Csi.V1;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// The real driver started exactly as the rendered DaemonSet starts it (its arguments and environment, with the
/// hostPath volumes under a temp root standing in for the node's /), then the calls the cluster makes: the
/// registrar's and kubelet's, external-provisioner's for a PVC of each StorageClass (the base's and the
/// image-backing overlay's), csi-resizer's and kubelet's for a larger request, and the PV controller's
/// reclaim: DeleteVolume for Delete, nothing for Retain.
/// </summary>
public sealed class DaemonSetDriverTests : IAsyncLifetime
{
    private const string NodeName = "kind-worker2";
    private const long PvcSize = 64L << 20;
    private const long GrownPvcSize = 96L << 20;
    private const string Install = "overlays/image-backing";
    private const string FsTypeParameter = "csi.storage.k8s.io/fstype";
    private readonly TempRoot _root = new("chd");
    private RenderedManifests _install = null!;
    private SimulatedNode _node = null!;
    private V1Container _driverContainer = null!;
    private DriverProcess _driver = null!;

    public static TheoryData<string> StorageClasses() =>
        [.. Manifests.RenderAsync(Install).GetAwaiter().GetResult().OfType<V1StorageClass>().Select(sc => sc.Metadata.Name)];

    public async Task InitializeAsync()
    {
        _install = await Manifests.RenderAsync(Install);
        _node = new SimulatedNode(_root, NodeName, _install);
        _driverContainer = _install.Container(RenderedManifests.DriverContainer);
        _driver = await _node.StartDriverAsync();
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        // Image volumes a failed test left behind: the root detaches their loop devices and mounts, then removes the files.
        _root.Dispose();
    }

    [Fact]
    public async Task Registration_SocketKubeletDials_ServesTheCsiDriverNamed()
    {
        var registrar = _install.Container(RenderedManifests.RegistrarContainer);
        string kubeletSocket = _node.PathOnNode(RenderedManifests.Flag(registrar, "--kubelet-registration-path")!);

        using var kubelet = new CsiClient(kubeletSocket);
        var info = await kubelet.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        var probe = await kubelet.Identity.ProbeAsync(new ProbeRequest());

        Assert.Equal(_install.CsiDriver.Metadata.Name, info.Name);
        Assert.True(probe.Ready);
    }

    [Fact]
    public async Task NodeGetInfo_NodeIdAndTopology_AreTheKubernetesNodeName()
    {
        var info = await _driver.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());

        Assert.Equal(NodeName, info.NodeId);
        var segment = Assert.Single(info.AccessibleTopology.Segments);
        Assert.Equal($"topology.{_install.CsiDriver.Metadata.Name}/node", segment.Key);
        Assert.Equal(NodeName, segment.Value);
    }

    [Fact]
    public async Task Capabilities_Expansion_AdvertisedOnlineForTheResizerAndKubelet()
    {
        var plugin = await _driver.Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
        var controller = await _driver.Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        var node = await _driver.Client.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());

        // csi-resizer calls ControllerExpandVolume only for a driver with EXPAND_VOLUME; ONLINE lets it do so while pods use the volume.
        Assert.Contains(plugin.Capabilities, c => c.VolumeExpansion?.Type == PluginCapability.Types.VolumeExpansion.Types.Type.Online);
        Assert.Contains(controller.Capabilities, c => c.Rpc?.Type == ControllerServiceCapability.Types.RPC.Types.Type.ExpandVolume);
        Assert.Contains(node.Capabilities, c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.ExpandVolume);
    }

    [Fact]
    public async Task NodeGetCapabilities_NoStageUnstage_SoKubeletPublishesDirectly()
    {
        var capabilities = await _driver.Client.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());

        Assert.DoesNotContain(capabilities.Capabilities, c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume);
    }

    [Theory]
    [MemberData(nameof(StorageClasses))]
    public async Task PvcLifecycle_StorageClass_CreatesGrowsAndReclaimsAsItSays(string storageClassName)
    {
        var storageClass = _install.OfType<V1StorageClass>().Single(sc => sc.Metadata.Name == storageClassName);
        var classParameters = new Dictionary<string, string>(storageClass.Parameters ?? new Dictionary<string, string>());
        var topology = (await _driver.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest())).AccessibleTopology;
        // external-provisioner turns csi.storage.k8s.io/fstype into the capability's fs_type (and the PV's fsType,
        // which kubelet passes on) and sends none of its csi.storage.k8s.io/ keys as parameters.
        var capability = Requests.MountCapability();
        capability.Mount.FsType = classParameters.GetValueOrDefault(FsTypeParameter, "");
        var driverParameters = classParameters.Where(p => !p.Key.StartsWith("csi.storage.k8s.io/", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value);

        // external-provisioner's capacity tracking, then its CreateVolume for the PVC once the scheduler picked this node.
        var capacity = await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest
        {
            Parameters = { driverParameters },
            AccessibleTopology = topology,
            VolumeCapabilities = { capability },
        });
        Assert.True(capacity.AvailableCapacity >= PvcSize, $"GetCapacity reported {capacity.AvailableCapacity}");
        string pvName = "pvc-" + Guid.NewGuid();
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(new CreateVolumeRequest
        {
            Name = pvName,
            CapacityRange = new CapacityRange { RequiredBytes = PvcSize },
            VolumeCapabilities = { capability },
            Parameters =
            {
                driverParameters,
                new Dictionary<string, string>
                {
                    ["csi.storage.k8s.io/pvc/name"] = "data",
                    ["csi.storage.k8s.io/pvc/namespace"] = "default",
                    ["csi.storage.k8s.io/pv/name"] = pvName,
                },
            },
            AccessibilityRequirements = new TopologyRequirement { Requisite = { topology }, Preferred = { topology } },
        })).Volume;
        Assert.Equal(topology, Assert.Single(volume.AccessibleTopology));
        Assert.True(volume.CapacityBytes >= PvcSize);

        // kubelet: it makes the volume's dir and lets the driver make the mount point, then passes the pod's identity (podInfoOnMount).
        string podUid = Guid.NewGuid().ToString();
        string target = _node.PathOnNode($"/var/lib/kubelet/pods/{podUid}/volumes/kubernetes.io~csi/{pvName}/mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(new NodePublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            TargetPath = target,
            VolumeCapability = capability,
            VolumeContext =
            {
                volume.VolumeContext,
                new Dictionary<string, string>
                {
                    ["csi.storage.k8s.io/pod.name"] = "app",
                    ["csi.storage.k8s.io/pod.namespace"] = "default",
                    ["csi.storage.k8s.io/pod.uid"] = podUid,
                    ["csi.storage.k8s.io/serviceAccount.name"] = "default",
                    ["csi.storage.k8s.io/ephemeral"] = "false",
                },
            },
        });
        Assert.True(Mounts.IsMountPoint(target), $"{target} is not a mount point:\n{_driver.Output}");
        await File.WriteAllTextAsync(Path.Combine(target, "hello.txt"), storageClassName);

        await ExpandWhilePublishedAsync(volume, target, capability);

        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        Assert.False(Mounts.IsMountPoint(target));

        // The PVC is deleted: the PV controller calls DeleteVolume (through the provisioner) only under Delete.
        string dataDir = _node.ContainerPathOnNode(_driverContainer, RenderedManifests.Flag(_driverContainer, "--data-dir")!);
        string volumeDir = Path.Combine(dataDir, "volumes", volume.VolumeId);
        // What the pod sees is data/ for a directory volume, the image's filesystem mounted at mount/ otherwise.
        string podView = driverParameters.GetValueOrDefault("backing") == "image" ? "mount" : "data";
        Assert.Equal(storageClassName, await File.ReadAllTextAsync(Path.Combine(volumeDir, podView, "hello.txt")));
        if (storageClass.ReclaimPolicy == "Delete")
        {
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
            Assert.False(Directory.Exists(volumeDir), $"{volumeDir} outlived DeleteVolume");
            Assert.Empty(LoopFileSystem.LoopDevicesBeneath(dataDir));
            var archived = Directory.GetDirectories(Path.Combine(dataDir, "archived"), pvName + "-*");
            if (driverParameters.GetValueOrDefault("onDelete") == "archive")
                Assert.True(File.Exists(Path.Combine(Assert.Single(archived), "volume.json")), "the archive has no volume record");
            else
                Assert.Empty(archived);
        }
        else
        {
            Assert.Equal("Retain", storageClass.ReclaimPolicy);
            var listed = await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
            Assert.Contains(listed.Entries, e => e.Volume.VolumeId == volume.VolumeId);
        }
    }

    /// <summary>
    /// The PVC's request grows: csi-resizer calls ControllerExpandVolume, then, if the driver asks for it, kubelet calls
    /// NodeExpandVolume at the published path. Growing a mounted ext4 needs CAP_SYS_RESOURCE, which the privileged
    /// container has and some test sandboxes do not; there the driver refuses the published volume's expansion up front,
    /// naming the capability, before anything changes (so the PVC's resize says why).
    /// </summary>
    private async Task ExpandWhilePublishedAsync(Volume volume, string target, VolumeCapability capability)
    {
        var controllerExpand = new ControllerExpandVolumeRequest
        {
            VolumeId = volume.VolumeId,
            CapacityRange = new CapacityRange { RequiredBytes = GrownPvcSize },
            VolumeCapability = capability,
        };
        if (capability.Mount?.FsType == "ext4" && !Capabilities.HasSysResource)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await _driver.Client.Controller.ControllerExpandVolumeAsync(controllerExpand));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("CAP_SYS_RESOURCE", refused.Status.Detail, StringComparison.Ordinal);
            var unchanged = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
            Assert.Equal(volume.CapacityBytes, unchanged.Volume.CapacityBytes);
            return;
        }
        var expanded = await _driver.Client.Controller.ControllerExpandVolumeAsync(controllerExpand);
        Assert.True(expanded.CapacityBytes >= GrownPvcSize, $"ControllerExpandVolume returned {expanded.CapacityBytes}");
        var got = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(expanded.CapacityBytes, got.Volume.CapacityBytes);
        if (!expanded.NodeExpansionRequired)
            return;

        var nodeExpand = new NodeExpandVolumeRequest
        {
            VolumeId = volume.VolumeId,
            VolumePath = target,
            CapacityRange = new CapacityRange { RequiredBytes = GrownPvcSize },
            VolumeCapability = capability,
        };
        await _driver.Client.Node.NodeExpandVolumeAsync(nodeExpand);
        Assert.True(new DriveInfo(target).TotalSize > PvcSize, $"the filesystem at {target} did not grow past {PvcSize} bytes");
    }
}
