using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace CsiHostPath.E2ETests;

/// <summary>
/// deploy/examples' PVC and pod for each StorageClass, in a fresh namespace of a real cluster: bound, mounted,
/// written and read, then the PVC deleted and the PV followed through its reclaim policy.
/// </summary>
public sealed class ReclaimPolicyTests
{
    private const string VolumesOnNode = "/var/lib/csi-hostpath/volumes";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [ClusterTheory]
    [InlineData("delete", "Delete")]
    [InlineData("retain", "Retain")]
    public async Task ExamplePvc_DeletedAfterUse_PvFollowsReclaimPolicy(string example, string reclaimPolicy)
    {
        using var client = Cluster.Connect();
        string ns = "csi-hostpath-e2e-" + Guid.NewGuid().ToString("N")[..8];
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            var pvc = await client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(await LoadAsync<V1PersistentVolumeClaim>($"examples/pvc-{example}.yaml"), ns);
            var pod = await client.CoreV1.CreateNamespacedPodAsync(await LoadAsync<V1Pod>($"examples/pod-{example}.yaml"), ns);
            pvc = await Poll.UntilAsync($"PVC {ns}/{pvc.Name()} Bound", Timeout,
                () => client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(pvc.Name(), ns), c => c.Status?.Phase == "Bound");
            pod = await Poll.UntilAsync($"pod {ns}/{pod.Name()} Running", Timeout,
                () => client.CoreV1.ReadNamespacedPodAsync(pod.Name(), ns), p => p.Status?.Phase == "Running");

            string token = Guid.NewGuid().ToString("N");
            Assert.Equal(token, (await ExecAsync(client, pod, $"echo {token} > /data/e2e.txt && cat /data/e2e.txt")).Trim());
            var pv = await client.CoreV1.ReadPersistentVolumeAsync(pvc.Spec.VolumeName);
            Assert.Equal(reclaimPolicy, pv.Spec.PersistentVolumeReclaimPolicy);
            string node = pod.Spec.NodeName;

            await client.CoreV1.DeleteNamespacedPodAsync(pod.Name(), ns);
            await client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(pvc.Name(), ns);
            if (reclaimPolicy == "Delete")
            {
                await WaitUntilGoneAsync(client, pv.Name());
                return;
            }

            await Poll.UntilAsync($"PV {pv.Name()} Released", Timeout,
                () => client.CoreV1.ReadPersistentVolumeAsync(pv.Name()), v => v.Status?.Phase == "Released");
            Assert.Equal(token, (await ReadOnNodeAsync(client, ns, node, $"{VolumesOnNode}/{pv.Spec.Csi.VolumeHandle}/data/e2e.txt")).Trim());

            // The admin's reclaim (README.md): switch the Released PV to Delete and the provisioner removes the volume.
            await client.CoreV1.PatchPersistentVolumeAsync(
                new V1Patch("""{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}""", V1Patch.PatchType.MergePatch), pv.Name());
            await WaitUntilGoneAsync(client, pv.Name());
        }
        finally
        {
            await client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    private static async Task<T> LoadAsync<T>(string deployFile) =>
        (T)Assert.Single(await KubernetesYaml.LoadAllFromFileAsync(Cluster.DeployFile(deployFile), null, strict: true));

    private static async Task<string> ExecAsync(Kubernetes client, V1Pod pod, string script)
    {
        string stdout = "";
        string stderr = "";
        int exitCode = await client.NamespacedPodExecAsync(pod.Name(), pod.Namespace(), pod.Spec.Containers[0].Name, ["sh", "-c", script], false,
            async (_, output, error) =>
            {
                stdout = await new StreamReader(output, Encoding.UTF8).ReadToEndAsync();
                stderr = await new StreamReader(error, Encoding.UTF8).ReadToEndAsync();
            }, CancellationToken.None);
        Assert.True(exitCode == 0, $"`{script}` in {pod.Name()} exited with {exitCode}: {stderr}");
        return stdout;
    }

    /// <summary>Reads a file on a node through a pod pinned there with the file's directory as a read-only hostPath.</summary>
    private static async Task<string> ReadOnNodeAsync(Kubernetes client, string ns, string node, string path)
    {
        var reader = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "read-on-node" },
            Spec = new V1PodSpec
            {
                NodeName = node,
                RestartPolicy = "Never",
                Tolerations = [new V1Toleration { OperatorProperty = "Exists" }],
                Containers =
                [
                    new V1Container
                    {
                        Name = "cat",
                        Image = "busybox:1.37.0",
                        Command = ["cat", "/node/" + Path.GetFileName(path)],
                        VolumeMounts = [new V1VolumeMount { Name = "dir", MountPath = "/node", ReadOnlyProperty = true }],
                    },
                ],
                Volumes = [new V1Volume { Name = "dir", HostPath = new V1HostPathVolumeSource { Path = Path.GetDirectoryName(path), Type = "Directory" } }],
            },
        }, ns);
        await Poll.UntilAsync($"pod {ns}/{reader.Name()} finished", Timeout,
            () => client.CoreV1.ReadNamespacedPodAsync(reader.Name(), ns), p => p.Status?.Phase is "Succeeded" or "Failed");
        using var log = await client.CoreV1.ReadNamespacedPodLogAsync(reader.Name(), ns);
        return await new StreamReader(log).ReadToEndAsync();
    }

    private static Task WaitUntilGoneAsync(Kubernetes client, string pvName) =>
        Poll.UntilAsync($"PV {pvName} deleted", Timeout, async () =>
        {
            try
            {
                return (await client.CoreV1.ReadPersistentVolumeAsync(pvName)).Status?.Phase ?? "no phase";
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return "gone";
            }
        }, phase => phase == "gone");
}
