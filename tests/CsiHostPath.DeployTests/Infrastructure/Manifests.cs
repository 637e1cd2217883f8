using k8s;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>KubernetesClient's strict YAML reader: a field the object's schema does not have is an error, not silently dropped.</summary>
public static class Manifests
{
    private static readonly Dictionary<string, Type> DeployOnlyTypes = new()
    {
        [Kustomization.ApiVersionKind] = typeof(Kustomization),
        [KindCluster.ApiVersionKind] = typeof(KindCluster),
        [ServiceMonitor.ApiVersionKind] = typeof(ServiceMonitor),
        [VolumeSnapshotClass.ApiVersionKind] = typeof(VolumeSnapshotClass),
        [VolumeGroupSnapshotClass.ApiVersionKind] = typeof(VolumeGroupSnapshotClass),
        [VolumeSnapshot.ApiVersionKind] = typeof(VolumeSnapshot),
    };

    /// <summary>How an install names the Helm chart rendered with some values: "helm/csi-hostpath" then " key=value" pairs.</summary>
    public const string ChartInstall = "helm/csi-hostpath";

    public static IReadOnlyList<object> LoadStrict(string yaml) => KubernetesYaml.LoadAllFromString(yaml, DeployOnlyTypes, strict: true);

    public static IReadOnlyList<object> LoadFile(string pathUnderDeploy) => LoadStrict(File.ReadAllText(Path.Combine(Repository.Deploy, pathUnderDeploy)));

    /// <summary>
    /// What `kubectl apply -k deploy/<paramref name="install"/>` would send, or for <see cref="ChartInstall"/> and its
    /// values what `helm install` would, read strictly.
    /// </summary>
    public static async Task<RenderedManifests> RenderAsync(string install) =>
        new(LoadStrict(install.StartsWith(ChartInstall, StringComparison.Ordinal)
            ? await Helm.TemplateAsync(install[ChartInstall.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            : await Kubectl.KustomizeAsync(Path.Combine(Repository.Deploy, install))));
}
