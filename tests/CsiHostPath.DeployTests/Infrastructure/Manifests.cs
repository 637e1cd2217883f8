using k8s;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>KubernetesClient's strict YAML reader: a field the object's schema does not have is an error, not silently dropped.</summary>
public static class Manifests
{
    private static readonly Dictionary<string, Type> DeployOnlyTypes = new()
    {
        [Kustomization.ApiVersionKind] = typeof(Kustomization),
        [KindCluster.ApiVersionKind] = typeof(KindCluster),
    };

    public static IReadOnlyList<object> LoadStrict(string yaml) => KubernetesYaml.LoadAllFromString(yaml, DeployOnlyTypes, strict: true);

    public static IReadOnlyList<object> LoadFile(string pathUnderDeploy) => LoadStrict(File.ReadAllText(Path.Combine(Repository.Deploy, pathUnderDeploy)));

    /// <summary>What `kubectl apply -k deploy/<paramref name="kustomization"/>` would send, read strictly.</summary>
    public static async Task<RenderedManifests> RenderAsync(string kustomization) =>
        new(LoadStrict(await Kubectl.KustomizeAsync(Path.Combine(Repository.Deploy, kustomization))));
}
