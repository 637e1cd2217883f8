using k8s.Models;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>The objects one kustomization renders, with the lookups the consistency checks need.</summary>
public sealed class RenderedManifests(IReadOnlyList<object> objects)
{
    public const string DriverContainer = "csi-hostpath";
    public const string ProvisionerContainer = "csi-provisioner";
    public const string RegistrarContainer = "node-driver-registrar";
    public const string LivenessContainer = "liveness-probe";
    public const string ResizerContainer = "csi-resizer";
    public const string SnapshotterContainer = "csi-snapshotter";

    public IReadOnlyList<object> Objects { get; } = objects;

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();

    public V1DaemonSet DaemonSet => OfType<V1DaemonSet>().Single();

    public V1CSIDriver CsiDriver => OfType<V1CSIDriver>().Single();

    public V1PodSpec NodePodSpec => DaemonSet.Spec.Template.Spec;

    public V1Container Container(string name) => NodePodSpec.Containers.Single(c => c.Name == name);

    /// <summary>Every container of every pod template or pod, with where it comes from for a failure message.</summary>
    public IEnumerable<(string Owner, V1Container Container)> AllContainers()
    {
        foreach (var daemonSet in OfType<V1DaemonSet>())
            foreach (var container in Containers(daemonSet.Spec.Template.Spec))
                yield return ($"DaemonSet/{daemonSet.Metadata.Name}", container);
        foreach (var pod in OfType<V1Pod>())
            foreach (var container in Containers(pod.Spec))
                yield return ($"Pod/{pod.Metadata.Name}", container);
    }

    /// <summary>
    /// Where a path inside <paramref name="container"/> is on the node: through the container's volume mount
    /// and that volume's hostPath. Null when no hostPath mount covers it.
    /// </summary>
    public string? HostPathOf(V1Container container, string containerPath)
    {
        var mount = (container.VolumeMounts ?? [])
            .Where(m => containerPath == m.MountPath || containerPath.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPath.Length);
        if (mount is null)
            return null;
        var hostPath = NodePodSpec.Volumes.Single(v => v.Name == mount.Name).HostPath?.Path;
        return hostPath is null ? null : hostPath.TrimEnd('/') + containerPath[mount.MountPath.TrimEnd('/').Length..];
    }

    /// <summary>
    /// Every (resource, verb) the ClusterRoles bound to a service account grant cluster-wide, whatever the API group:
    /// enough for "has it" and "has it not" checks on deploy/'s own roles, which never reuse a resource name across groups.
    /// </summary>
    public IReadOnlySet<(string Resource, string Verb)> ClusterRightsOf(string serviceAccount, string serviceAccountNamespace)
    {
        var boundRoles = OfType<V1ClusterRoleBinding>()
            .Where(b => b.RoleRef.Kind == "ClusterRole"
                && b.Subjects.Any(s => s.Kind == "ServiceAccount" && s.Name == serviceAccount && s.NamespaceProperty == serviceAccountNamespace))
            .Select(b => b.RoleRef.Name)
            .ToHashSet();
        return OfType<V1ClusterRole>()
            .Where(role => boundRoles.Contains(role.Metadata.Name))
            .SelectMany(role => role.Rules)
            .SelectMany(rule => rule.Resources.SelectMany(resource => rule.Verbs.Select(verb => (resource, verb))))
            .ToHashSet();
    }

    /// <summary>The value of a <c>--name=value</c> argument; null when the container does not pass it.</summary>
    public static string? Flag(V1Container container, string name)
    {
        string prefix = name + "=";
        return (container.Args ?? []).Where(a => a.StartsWith(prefix, StringComparison.Ordinal)).Select(a => a[prefix.Length..]).SingleOrDefault();
    }

    public static bool HasSwitch(V1Container container, string name) => (container.Args ?? []).Contains(name);

    /// <summary>A unix:// endpoint or a bare path, as the driver and the sidecars accept both.</summary>
    public static string SocketPath(string endpoint) => endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..] : endpoint;

    private static IEnumerable<V1Container> Containers(V1PodSpec spec) => (spec.InitContainers ?? []).Concat(spec.Containers);
}
