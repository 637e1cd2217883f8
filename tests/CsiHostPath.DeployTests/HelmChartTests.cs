using System.Text.Json.Nodes;
using CsiHostPath.DeployTests.Infrastructure;
using k8s;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// deploy/helm/csi-hostpath: it lints, its default render is deploy/base object by object, its values reproduce each
/// overlay, and its switches (metrics, classes, scheduling, resources) change what they say. ConsistencyTests also run
/// every check of the kustomizations on the renders in <see cref="Variants"/>.
/// </summary>
public sealed class HelmChartTests
{
    private const string Microk8sKubeletDir = "/var/snap/microk8s/common/var/lib/kubelet";

    // Labels only Helm's objects carry (ownership and release); deploy/base has none of them.
    private static readonly string[] HelmOnlyLabels = ["helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance"];

    /// <summary>The chart with its defaults, with another kubelet dir, and with every optional part on.</summary>
    public static readonly string[] Variants =
    [
        Manifests.ChartInstall,
        $"{Manifests.ChartInstall} kubeletDir={Microk8sKubeletDir}",
        $"{Manifests.ChartInstall} storageClasses.image=true storageClasses.default=image-delete metrics.enabled=true metrics.serviceMonitor.enabled=true snapshots.enabled=true",
    ];

    public static TheoryData<string, string> ValuesAndTheirKustomization() => new()
    {
        { "", "base" },
        { $"kubeletDir={Microk8sKubeletDir}", "overlays/microk8s" },
        { "storageClasses.image=true", "overlays/image-backing" },
        { "storageClasses.default=delete", "overlays/default-storageclass" },
        { "snapshots.enabled=true", "overlays/snapshots" },
    };

    [Theory]
    [InlineData("")]
    [InlineData("metrics.enabled=true metrics.serviceMonitor.enabled=true storageClasses.image=true storageClasses.default=retain snapshots.enabled=true")]
    public async Task Lint_Strict_Passes(string values)
    {
        await Helm.LintAsync(Split(values));
    }

    [Theory]
    [MemberData(nameof(ValuesAndTheirKustomization))]
    public async Task Render_WithValues_IsTheKustomizationObjectByObject(string values, string kustomization)
    {
        var chart = Comparable(await Manifests.RenderAsync($"{Manifests.ChartInstall} {values}"));
        var kustomize = Comparable(await Manifests.RenderAsync(kustomization));

        Assert.Equal(kustomize.Keys.Order(StringComparer.Ordinal), chart.Keys.Order(StringComparer.Ordinal));
        Assert.All(kustomize, expected => Assert.True(
            JsonNode.DeepEquals(expected.Value, chart[expected.Key]),
            $"{expected.Key} differs:\nkustomize: {expected.Value.ToJsonString()}\nhelm:      {chart[expected.Key].ToJsonString()}"));
    }

    [Fact]
    public async Task Namespace_TheKustomizationCreatesIt_HelmInstallsInto()
    {
        var kustomize = await Manifests.RenderAsync("base");
        var chart = await Manifests.RenderAsync(Manifests.ChartInstall);

        // `helm install --namespace csi-hostpath --create-namespace` (README.md) makes what the base's Namespace object does.
        Assert.Equal(Helm.Namespace, Assert.Single(kustomize.OfType<V1Namespace>()).Metadata.Name);
        Assert.Empty(chart.OfType<V1Namespace>());
        Assert.Equal(Helm.Namespace, chart.DaemonSet.Metadata.NamespaceProperty);
    }

    [Fact]
    public void AppVersion_IsTheDriversVersion_WhichTagsTheImage()
    {
        string chartYaml = File.ReadAllText(Path.Combine(Helm.Chart, "Chart.yaml"));

        Assert.Contains($"appVersion: \"{Repository.DriverVersion}\"", chartYaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_Default_OnWithoutAServiceMonitor()
    {
        var rendered = await Manifests.RenderAsync(Manifests.ChartInstall);
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        Assert.Equal("0.0.0.0:9810", RenderedManifests.Flag(driver, "--http-endpoint"));
        Assert.Equal(9810, driver.Ports.Single(p => p.Name == "metrics").ContainerPort);
        Assert.Equal("csi-hostpath-metrics", Assert.Single(rendered.OfType<V1Service>()).Metadata.Name);
        Assert.Empty(rendered.OfType<ServiceMonitor>());
    }

    [Fact]
    public async Task Metrics_Disabled_NoEndpointPortNorService()
    {
        var rendered = await Manifests.RenderAsync($"{Manifests.ChartInstall} metrics.enabled=false metrics.serviceMonitor.enabled=true");
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        Assert.Null(RenderedManifests.Flag(driver, "--http-endpoint"));
        Assert.DoesNotContain(driver.Ports, p => p.Name == "metrics");
        Assert.Empty(rendered.OfType<V1Service>());
        Assert.Empty(rendered.OfType<ServiceMonitor>());
    }

    [Fact]
    public async Task Metrics_Enabled_EndpointPortServiceAndServiceMonitorAgree()
    {
        var rendered = await Manifests.RenderAsync($"{Manifests.ChartInstall} metrics.enabled=true metrics.port=9911 metrics.serviceMonitor.enabled=true");
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var service = Assert.Single(rendered.OfType<V1Service>());
        var monitor = Assert.Single(rendered.OfType<ServiceMonitor>());

        // The kubernetes-csi sidecars' flag name; 0.0.0.0 so that Prometheus reaches it from another pod.
        Assert.Equal("0.0.0.0:9911", RenderedManifests.Flag(driver, "--http-endpoint"));
        Assert.Equal(9911, driver.Ports.Single(p => p.Name == "metrics").ContainerPort);
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, rendered.DaemonSet.Spec.Template.Metadata.Labels[label.Key]));
        Assert.Equal("metrics", service.Spec.Ports.Single().TargetPort.Value);
        Assert.All(monitor.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, service.Metadata.Labels[label.Key]));
        Assert.Equal("metrics", monitor.Spec.Endpoints.Single().Port);
        Assert.Equal([Helm.Namespace], monitor.Spec.NamespaceSelector!.MatchNames!);
        // The dashboard groups capacity by node (deploy/monitoring).
        Assert.Contains(monitor.Spec.Endpoints.Single().Relabelings!, r => r.TargetLabel == "node");
    }

    [Fact]
    public async Task Scheduling_Values_ReachThePodSpec()
    {
        var rendered = await Manifests.RenderAsync(
            $"{Manifests.ChartInstall} nodeSelector.disk=ssd tolerations[0].key=storage tolerations[0].operator=Exists priorityClassName=storage-critical");
        var spec = rendered.NodePodSpec;

        Assert.Equal("ssd", spec.NodeSelector["disk"]);
        Assert.Equal("storage", Assert.Single(spec.Tolerations).Key);
        Assert.Equal("storage-critical", spec.PriorityClassName);
    }

    [Fact]
    public async Task Image_Values_ReachTheDriverContainer()
    {
        var rendered = await Manifests.RenderAsync(
            $"{Manifests.ChartInstall} image.repository=registry.example/csi-hostpath image.tag=0.2.0 image.pullPolicy=Always dataDir=/srv/csi logLevel=Debug");
        var driver = rendered.Container(RenderedManifests.DriverContainer);

        Assert.Equal("registry.example/csi-hostpath:0.2.0", driver.Image);
        Assert.Equal("Always", driver.ImagePullPolicy);
        Assert.Equal("/srv/csi", RenderedManifests.Flag(driver, "--data-dir"));
        Assert.Equal("/srv/csi", rendered.HostPathOf(driver, "/srv/csi"));
        Assert.Equal("Debug", RenderedManifests.Flag(driver, "--log-level"));
    }

    [Fact]
    public async Task Resources_Values_ReachEachContainer()
    {
        var rendered = await Manifests.RenderAsync(
            $"{Manifests.ChartInstall} resources.csiProvisioner.limits.memory=512Mi resources.csiResizer.limits.memory=600Mi");

        // The README's "Resources" tells users to raise these two this way.
        Assert.Equal("512Mi", rendered.Container(RenderedManifests.ProvisionerContainer).Resources.Limits["memory"].ToString());
        Assert.Equal("600Mi", rendered.Container(RenderedManifests.ResizerContainer).Resources.Limits["memory"].ToString());
    }

    [Theory]
    [InlineData("storageClasses.default=fast", "none of")]
    [InlineData("storageClasses.default=image-delete", "does not create")]
    public async Task DefaultClass_NotOneThisReleaseCreates_RenderFailsNamingIt(string values, string reason)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Helm.TemplateAsync(Split(values)));

        Assert.Contains("storageClasses.default", failure.Message, StringComparison.Ordinal);
        Assert.Contains(reason, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageClasses_OnlyTheChosenOnes()
    {
        var rendered = await Manifests.RenderAsync($"{Manifests.ChartInstall} storageClasses.delete=false storageClasses.image=true storageClasses.default=image-archive");
        var classes = rendered.OfType<V1StorageClass>().ToDictionary(sc => sc.Metadata.Name);

        Assert.Equal(["csi-hostpath-image-archive", "csi-hostpath-image-delete", "csi-hostpath-retain"], classes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("true", classes["csi-hostpath-image-archive"].Metadata.Annotations["storageclass.kubernetes.io/is-default-class"]);
        Assert.Null(classes["csi-hostpath-retain"].Metadata.Annotations);
    }

    private static string[] Split(string values) => values.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Every object but the Namespace, by kind, namespace and name, as JSON without Helm's own labels.</summary>
    private static Dictionary<string, JsonNode> Comparable(RenderedManifests rendered) =>
        rendered.Objects.Cast<IKubernetesObject<V1ObjectMeta>>()
            .Where(o => o is not V1Namespace)
            .ToDictionary(o => $"{o.Kind}/{o.Metadata.NamespaceProperty}/{o.Metadata.Name}", o =>
            {
                var json = JsonNode.Parse(KubernetesJson.Serialize(o))!;
                if (json["metadata"]!["labels"] is JsonObject labels)
                {
                    foreach (var label in HelmOnlyLabels)
                        labels.Remove(label);
                    if (labels.Count == 0)
                        json["metadata"]!.AsObject().Remove("labels");
                }
                return json;
            });
}
