namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>The fields of kind's cluster config (kind.x-k8s.io/v1alpha4) that deploy/kind uses.</summary>
public sealed class KindCluster
{
    public const string ApiVersionKind = "kind.x-k8s.io/v1alpha4/Cluster";

    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public List<KindNode>? Nodes { get; set; }
}
