namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>
/// The kustomization.yaml fields deploy/ uses, so that the strict reader refuses a misspelt or unused one
/// the way it refuses one in a Kubernetes object.
/// </summary>
public sealed class Kustomization
{
    public const string ApiVersionKind = "kustomize.config.k8s.io/v1beta1/Kustomization";

    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public string? Namespace { get; set; }

    public List<string>? Resources { get; set; }

    public List<KustomizationPatch>? Patches { get; set; }
}
