using CsiHostPath.DeployTests.Infrastructure;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// What a user would otherwise find the hard way, on every kustomization that installs the driver (the base and
/// each overlay): names, sockets, mounts and topology that must agree across objects and containers.
/// </summary>
public sealed class ConsistencyTests
{
    private const string DefaultDriverName = "hostpath.csihostpath.dev";

    /// <summary>The kustomizations that install the driver, and the Helm chart with its defaults and with the values that change paths, classes and ports.</summary>
    public static TheoryData<string> Installs() =>
    [
        .. Repository.Kustomizations().Where(k => k != "examples" && !k.StartsWith("examples/", StringComparison.Ordinal)),
        .. HelmChartTests.Variants,
    ];

    public static TheoryData<string> Kustomizations() => [.. Repository.Kustomizations()];

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task StorageClasses_Provisioner_IsTheCsiDriverAndTheDriversName(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        Assert.Equal(DefaultDriverName, rendered.CsiDriver.Metadata.Name);
        Assert.Equal(DefaultDriverName, RenderedManifests.Flag(driver, "--driver-name"));
        Assert.NotEmpty(rendered.OfType<V1StorageClass>());
        Assert.All(rendered.OfType<V1StorageClass>(), sc => Assert.Equal(DefaultDriverName, sc.Provisioner));
    }

    [Fact]
    public async Task DriverDefault_DriverName_IsTheOneDeployUses()
    {
        string help = await Command.RunAsync(CsiHostPath.Testing.DriverProcess.ExecutablePath, "--help");

        Assert.Contains($"[default: {DefaultDriverName}]", help, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Socket_DriverAndEverySidecar_UseTheSameFile(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var registrar = rendered.Container(RenderedManifests.RegistrarContainer);
        var provisioner = rendered.Container(RenderedManifests.ProvisionerContainer);
        var liveness = rendered.Container(RenderedManifests.LivenessContainer);
        var resizer = rendered.Container(RenderedManifests.ResizerContainer);

        string? driverSocket = rendered.HostPathOf(driver, RenderedManifests.SocketPath(RenderedManifests.Flag(driver, "--endpoint")!));
        Assert.NotNull(driverSocket);
        Assert.Equal(driverSocket, RenderedManifests.Flag(registrar, "--kubelet-registration-path"));
        Assert.Equal(driverSocket, rendered.HostPathOf(registrar, RenderedManifests.Flag(registrar, "--csi-address")!));
        Assert.Equal(driverSocket, rendered.HostPathOf(provisioner, RenderedManifests.Flag(provisioner, "--csi-address")!));
        Assert.Equal(driverSocket, rendered.HostPathOf(liveness, RenderedManifests.Flag(liveness, "--csi-address")!));
        Assert.Equal(driverSocket, rendered.HostPathOf(resizer, RenderedManifests.Flag(resizer, "--csi-address")!));
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task KubeletDirs_AreTheOnesTheRegistrarAnnouncesAndPodsAreBidirectional(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var registrar = rendered.Container(RenderedManifests.RegistrarContainer);
        string registrationPath = RenderedManifests.Flag(registrar, "--kubelet-registration-path")!;
        string kubeletDir = registrationPath[..registrationPath.IndexOf("/plugins/", StringComparison.Ordinal)];

        // kubelet passes target paths as it sees them on the host, so the driver must see the pods dir at the same path.
        string podsDir = kubeletDir + "/pods";
        var podsMount = Assert.Single(driver.VolumeMounts, m => m.MountPath == podsDir);
        Assert.Equal("Bidirectional", podsMount.MountPropagation);
        Assert.Equal(podsDir, rendered.HostPathOf(driver, podsDir));
        Assert.True(driver.SecurityContext?.Privileged, "Bidirectional propagation requires a privileged container");
        Assert.Equal(kubeletDir + "/plugins_registry", rendered.HostPathOf(registrar, "/registration"));
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task KubeletDirs_BlockPublishTarget_IsOnTheHostThroughABidirectionalPluginsMount(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        string registrationPath = RenderedManifests.Flag(rendered.Container(RenderedManifests.RegistrarContainer), "--kubelet-registration-path")!;
        string kubeletDir = registrationPath[..registrationPath.IndexOf("/plugins/", StringComparison.Ordinal)];
        // kubelet's NodePublishVolume target for a volumeMode: Block PVC (pkg/volume/csi/csi_block.go,
        // csiBlockMapper.getPublishPath, with the pod's UID appended): under its plugins dir, whose parent kubelet makes on the host.
        string blockTarget = kubeletDir + "/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-0b5e/8c1f0d3e-0000-4000-8000-000000000001";

        var covering = driver.VolumeMounts
            .Where(m => blockTarget.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPath.Length);
        Assert.NotNull(covering);
        Assert.Equal(kubeletDir + "/plugins", covering.MountPath);
        // Without Bidirectional the loop device bound there stays in the container and kubelet's EvalHostSymlinks fails.
        Assert.Equal("Bidirectional", covering.MountPropagation);
        Assert.Equal(blockTarget, rendered.HostPathOf(driver, blockTarget));
        Assert.Equal("Directory", rendered.NodePodSpec.Volumes.Single(v => v.Name == covering.Name).HostPath.Type);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task NodeId_IsTheKubernetesNodeName(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var provisioner = rendered.Container(RenderedManifests.ProvisionerContainer);

        Assert.Equal("$(NODE_NAME)", RenderedManifests.Flag(driver, "--node-id"));
        Assert.Equal("spec.nodeName", driver.Env.Single(e => e.Name == "NODE_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("spec.nodeName", provisioner.Env.Single(e => e.Name == "NODE_NAME").ValueFrom.FieldRef.FieldPath);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Provisioner_RunsPerNodeWithTopologyCapacityAndMetadata(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var provisioner = rendered.Container(RenderedManifests.ProvisionerContainer);

        Assert.True(RenderedManifests.HasSwitch(provisioner, "--node-deployment"));
        Assert.True(RenderedManifests.HasSwitch(provisioner, "--strict-topology"));
        Assert.True(RenderedManifests.HasSwitch(provisioner, "--enable-capacity"));
        Assert.True(RenderedManifests.HasSwitch(provisioner, "--extra-create-metadata"));
        Assert.Equal("1", RenderedManifests.Flag(provisioner, "--capacity-ownerref-level"));
        Assert.Equal(
            ["metadata.name", "metadata.namespace"],
            provisioner.Env.Where(e => e.Name is "POD_NAME" or "NAMESPACE").Select(e => e.ValueFrom.FieldRef.FieldPath).Order());
        Assert.True(rendered.CsiDriver.Spec.StorageCapacity);
        Assert.False(rendered.CsiDriver.Spec.AttachRequired);
    }

    /// <summary>
    /// With seLinuxMount: true kubelet adds the pod's context= to every publish and skips the runtime's relabelling
    /// (pkg/volume/csi/csi_mounter.go SetUpAt, util.AddSELinuxMountOption); a directory volume cannot take a context
    /// (IntegrationTests MountOptionsTests), so no install may claim it. README.md, "Mount options".
    /// </summary>
    [Theory]
    [MemberData(nameof(Installs))]
    public async Task CsiDriver_SeLinuxMountOff_SinceDirectoryVolumesCannotTakeAContext(string install)
    {
        var rendered = await Manifests.RenderAsync(install);

        Assert.NotEqual(true, rendered.CsiDriver.Spec.SeLinuxMount);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Resizer_RunsPerNodeWithoutLeaderElectionOrPodWatch(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var resizer = rendered.Container(RenderedManifests.ResizerContainer);

        // Each node's resizer must talk to its own driver: a single elected one would ask its node for every node's volumes.
        Assert.Equal("false", RenderedManifests.Flag(resizer, "--leader-election"));
        // Without it the resizer watches every pod in the cluster, a right the RBAC deliberately does not grant.
        Assert.Equal("false", RenderedManifests.Flag(resizer, "--handle-volume-inuse-error"));
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Rbac_NodeServiceAccount_HasWhatTheSidecarsNeedAndNoPodsOrSecrets(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var clusterRights = rendered.ClusterRightsOf(rendered.NodePodSpec.ServiceAccountName, rendered.DaemonSet.Metadata.NamespaceProperty);

        // csi-resizer: record the new size on the PV and the resize state on the PVC, with events on the PVC.
        Assert.All(
            new[] { ("persistentvolumes", "patch"), ("persistentvolumes", "watch"), ("persistentvolumeclaims", "watch"), ("persistentvolumeclaims/status", "patch"), ("events", "create") },
            right => Assert.Contains(right, clusterRights));
        // csi-provisioner: create and delete PVs.
        Assert.Contains(("persistentvolumes", "create"), clusterRights);
        Assert.Contains(("persistentvolumes", "delete"), clusterRights);
        Assert.DoesNotContain(clusterRights, r => r.Resource is "pods" or "secrets" || r.Verb == "*" || r.Resource == "*");
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task DriverContainer_SeesTheHostsDev_ForLoopDevices(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        // Loop devices the driver attaches must be the host's, where kubelet and pods' runtimes find block volumes.
        Assert.Equal("/dev/loop-control", rendered.HostPathOf(driver, "/dev/loop-control"));
        Assert.Equal("Directory", rendered.NodePodSpec.Volumes.Single(v => v.HostPath?.Path == "/dev").HostPath.Type);
        Assert.True(driver.SecurityContext?.Privileged, "opening /dev/loop-control and mounting need a privileged container");
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task LivenessProbe_PortIsTheOneTheSidecarServes(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var liveness = rendered.Container(RenderedManifests.LivenessContainer);

        var probe = driver.LivenessProbe.HttpGet;
        Assert.Equal("/healthz", probe.Path);
        int port = driver.Ports.Single(p => p.Name == probe.Port.Value).ContainerPort;
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), RenderedManifests.Flag(liveness, "--health-port"));
    }

    /// <summary>
    /// The driver serves /metrics on every address at the port of its container port named `metrics` (the dashboard's
    /// scrape finds it by that name), the metrics Service targets that port, and no two containers of the pod, which
    /// share its network, listen on the same port.
    /// </summary>
    [Theory]
    [MemberData(nameof(Installs))]
    public async Task Metrics_EndpointIsTheMetricsPortAndTheServiceTargetsIt(string install)
    {
        var rendered = await Manifests.RenderAsync(install);
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        int port = driver.Ports.Single(p => p.Name == "metrics").ContainerPort;
        Assert.Equal($"0.0.0.0:{port}", RenderedManifests.Flag(driver, "--http-endpoint"));
        var service = Assert.Single(rendered.OfType<V1Service>(), s => s.Metadata.Name == "csi-hostpath-metrics");
        Assert.Equal("metrics", service.Spec.Ports.Single().TargetPort.Value);
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, rendered.DaemonSet.Spec.Template.Metadata.Labels[label.Key]));
        var ports = rendered.NodePodSpec.Containers.SelectMany(c => c.Ports ?? []).Select(p => p.ContainerPort).ToList();
        Assert.Equal(ports.Distinct().Count(), ports.Count);
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task NodePlugin_RunsOnEveryNodeAsNodeCritical(string install)
    {
        var rendered = await Manifests.RenderAsync(install);

        Assert.Equal("system-node-critical", rendered.NodePodSpec.PriorityClassName);
        Assert.Contains(rendered.NodePodSpec.Tolerations, t => t.OperatorProperty == "Exists" && t.Key is null && t.Effect is null);
    }

    [Fact]
    public async Task StorageClasses_Base_DeleteAndRetainWaitForFirstConsumerNoneDefault()
    {
        var rendered = await Manifests.RenderAsync("base");
        var classes = rendered.OfType<V1StorageClass>().ToList();

        Assert.Equal(["Delete", "Retain"], classes.Select(sc => sc.ReclaimPolicy).Order());
        Assert.All(classes, sc => Assert.Equal("WaitForFirstConsumer", sc.VolumeBindingMode));
        Assert.All(classes, sc => Assert.Contains(sc.ReclaimPolicy.ToLowerInvariant(), sc.Metadata.Name, StringComparison.Ordinal));
        Assert.All(classes, sc => Assert.Null(DefaultClassAnnotation(sc)));
        // The base's two classes are the default backing, a plain directory, deleted or kept with the PV.
        Assert.All(classes, sc => Assert.Null(sc.Parameters));
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task StorageClasses_AllowExpansion_BecauseTheResizerRunsBesideTheDriver(string install)
    {
        var rendered = await Manifests.RenderAsync(install);

        // A class that allows expansion without a resizer accepts resizes that never happen. (That the driver
        // advertises expansion is DaemonSetDriverTests' Capabilities_Expansion_… .)
        Assert.Contains(rendered.NodePodSpec.Containers, c => c.Name == RenderedManifests.ResizerContainer);
        Assert.All(rendered.OfType<V1StorageClass>(), sc => Assert.True(sc.AllowVolumeExpansion, $"{sc.Metadata.Name} does not allow expansion"));
    }

    [Fact]
    public async Task StorageClasses_ImageBackingOverlay_AddsImageClassesAndKeepsTheBase()
    {
        var rendered = await Manifests.RenderAsync("overlays/image-backing");
        var byName = rendered.OfType<V1StorageClass>().ToDictionary(sc => sc.Metadata.Name);

        Assert.Equal(["csi-hostpath-delete", "csi-hostpath-image-archive", "csi-hostpath-image-delete", "csi-hostpath-retain"], byName.Keys.Order(StringComparer.Ordinal));
        Assert.Null(byName["csi-hostpath-delete"].Parameters);
        Assert.Null(byName["csi-hostpath-retain"].Parameters);
        foreach (var name in new[] { "csi-hostpath-image-delete", "csi-hostpath-image-archive" })
        {
            Assert.Equal("image", byName[name].Parameters["backing"]);
            Assert.Equal("ext4", byName[name].Parameters["csi.storage.k8s.io/fstype"]);
            Assert.Equal("WaitForFirstConsumer", byName[name].VolumeBindingMode);
        }
        // Archiving happens in DeleteVolume, which the PV controller calls only under Delete.
        Assert.Equal("archive", byName["csi-hostpath-image-archive"].Parameters["onDelete"]);
        Assert.Equal("Delete", byName["csi-hostpath-image-archive"].ReclaimPolicy);
    }

    [Fact]
    public async Task StorageClasses_DefaultOverlay_MarksOnlyDeleteDefault()
    {
        var rendered = await Manifests.RenderAsync("overlays/default-storageclass");

        var marked = rendered.OfType<V1StorageClass>()
            .Where(sc => DefaultClassAnnotation(sc) == "true");
        Assert.Equal("csi-hostpath-delete", Assert.Single(marked).Metadata.Name);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Containers_HaveRequestsAndLimits(string kustomization)
    {
        var rendered = await Manifests.RenderAsync(kustomization);

        Assert.NotEmpty(rendered.AllContainers());
        Assert.All(rendered.AllContainers(), c =>
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(c.Container.Resources?.Requests?.ContainsKey(resource), $"{c.Owner} {c.Container.Name} has no {resource} request");
                Assert.True(c.Container.Resources?.Limits?.ContainsKey(resource), $"{c.Owner} {c.Container.Name} has no {resource} limit");
            }
        });
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Images_ArePinnedToAReleaseTag(string kustomization)
    {
        var rendered = await Manifests.RenderAsync(kustomization);

        Assert.All(rendered.AllContainers(), c =>
        {
            string image = c.Container.Image;
            int colon = image.LastIndexOf(':');
            Assert.True(colon > image.LastIndexOf('/'), $"{c.Owner} {c.Container.Name}: {image} has no tag");
            Assert.NotEqual("latest", image[(colon + 1)..]);
        });
    }

    [Theory]
    [MemberData(nameof(Installs))]
    public async Task ClusterWideSidecars_MemoryLimit_HoldsTheirInformersForThousandsOfVolumes(string install)
    {
        var rendered = await Manifests.RenderAsync(install);

        // Their informers cache every PV and PVC of the cluster: upstream's large-scale test
        // (kubernetes-csi/external-provisioner#587) needed 200Mi for 5,000 volumes. README.md's "Resources" says the same.
        foreach (var name in new[] { RenderedManifests.ProvisionerContainer, RenderedManifests.ResizerContainer })
        {
            var limit = rendered.Container(name).Resources.Limits["memory"];
            Assert.True(limit.ToInt64() >= 256L << 20, $"{name}'s memory limit {limit} holds fewer than ~5,000 PVs");
        }
    }

    [Fact]
    public async Task DriverImage_TagIsTheDriversVersion()
    {
        var rendered = await Manifests.RenderAsync("base");

        Assert.Equal("csi-hostpath:" + Repository.DriverVersion, rendered.Container(RenderedManifests.DriverContainer).Image);
    }

    [Fact]
    public async Task Sidecars_ComeFromSigStorageAndReadmeNamesTheirVersions()
    {
        var rendered = await Manifests.RenderAsync("base");
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));

        Assert.All(
            new[] { RenderedManifests.ProvisionerContainer, RenderedManifests.RegistrarContainer, RenderedManifests.LivenessContainer, RenderedManifests.ResizerContainer },
            name =>
            {
                string image = rendered.Container(name).Image;
                Assert.StartsWith("registry.k8s.io/sig-storage/", image, StringComparison.Ordinal);
                Assert.Contains(image, readme, StringComparison.Ordinal);
            });
    }

    private static string? DefaultClassAnnotation(V1StorageClass storageClass) =>
        storageClass.Metadata.Annotations is { } annotations && annotations.TryGetValue("storageclass.kubernetes.io/is-default-class", out var value) ? value : null;
}
