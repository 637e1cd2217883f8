using Csi.V1;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// deploy/overlays/snapshots (and the chart's snapshots.enabled, which HelmChartTests compares with it): csi-snapshotter
/// beside the driver in node-deployment mode, its rights, the classes, the examples, and a driver that really serves
/// snapshots, started as the DaemonSet starts it.
/// </summary>
public sealed class SnapshotDeployTests
{
    private const string Install = "overlays/snapshots";

    [Fact]
    public async Task Snapshotter_RunsPerNodeOnTheDriversSocket()
    {
        var rendered = await Manifests.RenderAsync(Install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var snapshotter = rendered.Container(RenderedManifests.SnapshotterContainer);

        Assert.Equal(
            rendered.HostPathOf(driver, RenderedManifests.SocketPath(RenderedManifests.Flag(driver, "--endpoint")!)),
            rendered.HostPathOf(snapshotter, RenderedManifests.Flag(snapshotter, "--csi-address")!));
        // external-snapshotter v8.6.0 cmd/csi-snapshotter/main.go: --node-deployment needs NODE_NAME and no leader
        // election, and then watches only the contents the snapshot controller labelled with that node.
        Assert.True(RenderedManifests.HasSwitch(snapshotter, "--node-deployment"));
        Assert.Equal("false", RenderedManifests.Flag(snapshotter, "--leader-election"));
        Assert.Equal("spec.nodeName", snapshotter.Env.Single(e => e.Name == "NODE_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("CSIVolumeGroupSnapshot=true", RenderedManifests.Flag(snapshotter, "--feature-gates"));
        Assert.StartsWith("registry.k8s.io/sig-storage/csi-snapshotter:v", snapshotter.Image, StringComparison.Ordinal);
        Assert.Contains(snapshotter.Image, File.ReadAllText(Path.Combine(Repository.Root, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rbac_SnapshotterWritesContentsAndProvisionerReadsSnapshots()
    {
        var rendered = await Manifests.RenderAsync(Install);
        var rights = rendered.ClusterRightsOf(rendered.NodePodSpec.ServiceAccountName, rendered.DaemonSet.Metadata.NamespaceProperty);

        Assert.All(
            new[] { ("volumesnapshotcontents", "patch"), ("volumesnapshotcontents/status", "update"), ("volumegroupsnapshotcontents", "patch"), ("volumesnapshotclasses", "watch"), ("volumesnapshots", "get") },
            right => Assert.Contains(right, rights));
        Assert.DoesNotContain(rights, r => r.Resource is "pods" or "secrets" or "leases" || r.Verb == "*");
        // external-provisioner v6.3.0 keeps a finalizer on a snapshot it restores from (controller.go, Update of the
        // VolumeSnapshot) and sweeps orphaned ones when --snapshot-orphan-sweep-interval is not 0.
        Assert.Contains(("volumesnapshots", "update"), rights);
        Assert.NotEqual("0", RenderedManifests.Flag(rendered.Container(RenderedManifests.ProvisionerContainer), "--snapshot-orphan-sweep-interval"));
    }

    [Fact]
    public async Task Classes_NameTheDriver()
    {
        var rendered = await Manifests.RenderAsync(Install);

        Assert.Equal(rendered.CsiDriver.Metadata.Name, Assert.Single(rendered.OfType<VolumeSnapshotClass>()).Driver);
        Assert.Equal(rendered.CsiDriver.Metadata.Name, Assert.Single(rendered.OfType<VolumeGroupSnapshotClass>()).Driver);
    }

    [Fact]
    public async Task Examples_SnapshotRestoreAndCloneReferToEachOtherAndStayOnTheSourcesNode()
    {
        var install = await Manifests.RenderAsync(Install);
        var examples = await Manifests.RenderAsync("examples/snapshots");
        var claims = examples.OfType<V1PersistentVolumeClaim>().ToDictionary(c => c.Metadata.Name);
        var snapshot = Assert.Single(examples.OfType<VolumeSnapshot>());
        var source = examples.OfType<V1Pod>().Single(p => p.Spec.Affinity is null);

        Assert.Contains(install.OfType<VolumeSnapshotClass>(), c => c.Metadata.Name == snapshot.Spec.VolumeSnapshotClassName);
        Assert.Contains(snapshot.Spec.Source.PersistentVolumeClaimName, claims.Keys);
        Assert.Contains(claims.Values, c => c.Spec.DataSource?.Kind == "VolumeSnapshot" && c.Spec.DataSource.Name == snapshot.Metadata.Name);
        Assert.Contains(claims.Values, c => c.Spec.DataSource?.Kind == "PersistentVolumeClaim" && claims.ContainsKey(c.Spec.DataSource.Name));
        Assert.All(claims.Values, c => Assert.Contains(install.OfType<V1StorageClass>(), sc => sc.Metadata.Name == c.Spec.StorageClassName));
        // A restore or clone can only be made on its source's node: the readers are pinned beside the source pod.
        Assert.All(examples.OfType<V1Pod>().Where(p => p.Spec.Affinity is not null), pod =>
        {
            var term = Assert.Single(pod.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
            Assert.All(term.LabelSelector.MatchLabels, l => Assert.Equal(l.Value, source.Metadata.Labels[l.Key]));
        });
    }

    [Fact]
    public async Task Driver_StartedAsTheDaemonSetStartsIt_ServesSnapshotsAndGroupSnapshots()
    {
        using var root = new TempRoot("chs");
        var install = await Manifests.RenderAsync(Install);
        await using var driver = await new SimulatedNode(root, "kind-worker", install).StartDriverAsync();

        var controller = await driver.Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        var group = await driver.Client.GroupController.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest());

        // csi-snapshotter only starts its controllers for a driver that advertises these.
        Assert.Contains(controller.Capabilities, c => c.Rpc?.Type == ControllerServiceCapability.Types.RPC.Types.Type.CreateDeleteSnapshot);
        Assert.Contains(controller.Capabilities, c => c.Rpc?.Type == ControllerServiceCapability.Types.RPC.Types.Type.CloneVolume);
        Assert.Contains(group.Capabilities, c => c.Rpc?.Type == GroupControllerServiceCapability.Types.RPC.Types.Type.CreateDeleteGetVolumeGroupSnapshot);
    }
}
