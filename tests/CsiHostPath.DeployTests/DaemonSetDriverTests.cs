using Csi.V1;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// The real driver started exactly as the rendered DaemonSet starts it (its arguments and environment, with the
/// hostPath volumes under a temp root standing in for the node's /), then the calls the cluster makes: the
/// registrar's and kubelet's, external-provisioner's for a PVC of each StorageClass, and the PV controller's
/// reclaim: DeleteVolume for Delete, nothing for Retain.
/// </summary>
public sealed class DaemonSetDriverTests : IAsyncLifetime
{
    private const string NodeName = "kind-worker2";
    private const long PvcSize = 64L << 20;
    private readonly TempRoot _root = new("chd");
    private RenderedManifests _install = null!;
    private SimulatedNode _node = null!;
    private V1Container _driverContainer = null!;
    private DriverProcess _driver = null!;

    public async Task InitializeAsync()
    {
        _install = await Manifests.RenderAsync("base");
        _node = new SimulatedNode(_root, NodeName, _install);
        _node.CreateHostPathVolumes();
        _driverContainer = _install.Container(RenderedManifests.DriverContainer);
        string socket = _node.ContainerPathOnNode(_driverContainer, RenderedManifests.SocketPath(RenderedManifests.Flag(_driverContainer, "--endpoint")!));
        string dataDir = _node.ContainerPathOnNode(_driverContainer, RenderedManifests.Flag(_driverContainer, "--data-dir")!);
        _driver = await DriverProcess.StartWithArgumentsAsync(_root, socket, dataDir, _node.Arguments(_driverContainer), _node.Environment(_driverContainer));
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
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
        Assert.NotEqual(false, probe.Ready);
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
    public async Task NodeGetCapabilities_NoStageUnstage_SoKubeletPublishesDirectly()
    {
        var capabilities = await _driver.Client.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());

        Assert.DoesNotContain(capabilities.Capabilities, c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume);
    }

    [Theory]
    [InlineData("csi-hostpath-delete")]
    [InlineData("csi-hostpath-retain")]
    public async Task PvcLifecycle_StorageClass_ReclaimsAsItsPolicySays(string storageClassName)
    {
        var storageClass = _install.OfType<V1StorageClass>().Single(sc => sc.Metadata.Name == storageClassName);
        var topology = (await _driver.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest())).AccessibleTopology;

        // external-provisioner's capacity tracking, then its CreateVolume for the PVC once the scheduler picked this node.
        var capacity = await _driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest
        {
            Parameters = { storageClass.Parameters ?? new Dictionary<string, string>() },
            AccessibleTopology = topology,
            VolumeCapabilities = { Requests.MountCapability() },
        });
        Assert.True(capacity.AvailableCapacity >= PvcSize, $"GetCapacity reported {capacity.AvailableCapacity}");
        string pvName = "pvc-" + Guid.NewGuid();
        var volume = (await _driver.Client.Controller.CreateVolumeAsync(new CreateVolumeRequest
        {
            Name = pvName,
            CapacityRange = new CapacityRange { RequiredBytes = PvcSize },
            VolumeCapabilities = { Requests.MountCapability() },
            Parameters =
            {
                storageClass.Parameters ?? new Dictionary<string, string>(),
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

        // kubelet: it makes the volume's dir and lets the driver make the mount point, then passes the pod's identity (podInfoOnMount).
        string podUid = Guid.NewGuid().ToString();
        string target = _node.PathOnNode($"/var/lib/kubelet/pods/{podUid}/volumes/kubernetes.io~csi/{pvName}/mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(new NodePublishVolumeRequest
        {
            VolumeId = volume.VolumeId,
            TargetPath = target,
            VolumeCapability = Requests.MountCapability(),
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
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        Assert.False(Mounts.IsMountPoint(target));

        // The PVC is deleted: the PV controller calls DeleteVolume (through the provisioner) only under Delete.
        string dataDir = _node.ContainerPathOnNode(_driverContainer, RenderedManifests.Flag(_driverContainer, "--data-dir")!);
        string volumeDir = Path.Combine(dataDir, "volumes", volume.VolumeId);
        Assert.Equal(storageClassName, await File.ReadAllTextAsync(Path.Combine(volumeDir, "data", "hello.txt")));
        if (storageClass.ReclaimPolicy == "Delete")
        {
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
            Assert.False(Directory.Exists(volumeDir), $"{volumeDir} outlived DeleteVolume");
        }
        else
        {
            Assert.Equal("Retain", storageClass.ReclaimPolicy);
            var listed = await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
            Assert.Contains(listed.Entries, e => e.Volume.VolumeId == volume.VolumeId);
        }
    }
}
