using k8s.Models;
using CsiHostPath.Testing;

namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>
/// A node's filesystem under a <see cref="TempRoot"/>: the DaemonSet's hostPath volumes (the kubelet dir,
/// /var/lib/csi-hostpath) created there as kubelet would, and the driver container's arguments rewritten so that
/// every container path names the same file the hostPath mount would make it on the node.
/// </summary>
public sealed class SimulatedNode(TempRoot root, string nodeName, RenderedManifests install)
{
    public string NodeName { get; } = nodeName;

    /// <summary>A path on the node, under the temp root.</summary>
    public string PathOnNode(string hostPath) => root.Path + hostPath;

    private void CreateHostPathVolumes()
    {
        foreach (var volume in install.NodePodSpec.Volumes.Where(v => v.HostPath is not null))
            Directory.CreateDirectory(PathOnNode(volume.HostPath.Path));
    }

    /// <summary>
    /// The real driver, started as kubelet would start the DaemonSet's driver container on this node: in a network
    /// namespace of its own, as a pod has, where its --http-endpoint port is its own however many nodes a test runs.
    /// </summary>
    public Task<DriverProcess> StartDriverAsync()
    {
        CreateHostPathVolumes();
        var container = install.Container(RenderedManifests.DriverContainer);
        string socket = ContainerPathOnNode(container, RenderedManifests.SocketPath(RenderedManifests.Flag(container, "--endpoint")!));
        string dataDir = ContainerPathOnNode(container, RenderedManifests.Flag(container, "--data-dir")!);
        return DriverProcess.StartWithArgumentsAsync(root, socket, dataDir, Arguments(container), Environment(container), ["unshare", "--net"]);
    }

    /// <summary>The container's environment as kubelet resolves it for this node.</summary>
    public IReadOnlyDictionary<string, string> Environment(V1Container container) =>
        (container.Env ?? []).ToDictionary(e => e.Name, e => e.Value ?? e.ValueFrom?.FieldRef?.FieldPath switch
        {
            "spec.nodeName" => NodeName,
            var other => throw new NotSupportedException($"{container.Name}: env {e.Name} from {other} has no value on a simulated node"),
        });

    /// <summary>The container's arguments after kubelet's $(VAR) expansion, with container paths mapped onto the node.</summary>
    public IReadOnlyList<string> Arguments(V1Container container)
    {
        var environment = Environment(container);
        return (container.Args ?? []).Select(arg =>
        {
            foreach (var (name, value) in environment)
                arg = arg.Replace($"$({name})", value, StringComparison.Ordinal);
            return MapOntoNode(container, arg);
        }).ToList();
    }

    /// <summary>Where a path the container sees is on the simulated node.</summary>
    public string ContainerPathOnNode(V1Container container, string containerPath) =>
        PathOnNode(install.HostPathOf(container, containerPath) ?? throw new InvalidOperationException($"{container.Name}: no hostPath mount covers {containerPath}"));

    private string MapOntoNode(V1Container container, string arg)
    {
        int equals = arg.IndexOf('=');
        if (equals < 0)
            return arg;
        string value = arg[(equals + 1)..];
        string scheme = value.StartsWith("unix://", StringComparison.Ordinal) ? "unix://" : "";
        string path = value[scheme.Length..];
        return path.StartsWith('/') && install.HostPathOf(container, path) is { } hostPath
            ? arg[..(equals + 1)] + scheme + PathOnNode(hostPath)
            : arg;
    }
}
