using k8s.Models;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>The fields of the Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1) that the chart uses.</summary>
public sealed class ServiceMonitor : k8s.IKubernetesObject<V1ObjectMeta>
{
    public const string ApiVersionKind = "monitoring.coreos.com/v1/ServiceMonitor";

    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();

    public ServiceMonitorSpec Spec { get; set; } = new();
}

public sealed class ServiceMonitorSpec
{
    public V1LabelSelector Selector { get; set; } = new();

    public ServiceMonitorNamespaceSelector? NamespaceSelector { get; set; }

    public List<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}

public sealed class ServiceMonitorNamespaceSelector
{
    public List<string>? MatchNames { get; set; }
}

public sealed class ServiceMonitorEndpoint
{
    public string? Port { get; set; }

    public string? Path { get; set; }

    public string? Interval { get; set; }

    public List<ServiceMonitorRelabeling>? Relabelings { get; set; }
}

public sealed class ServiceMonitorRelabeling
{
    public List<string>? SourceLabels { get; set; }

    public string? TargetLabel { get; set; }
}
