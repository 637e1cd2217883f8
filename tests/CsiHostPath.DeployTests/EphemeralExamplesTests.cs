using Csi.V1;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>
/// deploy/examples/ephemeral against the real driver, started as the DaemonSet starts it: each example pod's inline
/// volume published and unpublished as kubelet does it (Testing/InlineVolume: handle, target and pod-info keys from
/// pkg/volume/csi/csi_mounter.go), with the pod's own volumeAttributes; and the generic one's template names a class
/// the base creates.
/// </summary>
public sealed class EphemeralExamplesTests : IAsyncLifetime
{
    private const string Examples = "examples/ephemeral";
    private readonly TempRoot _root = new("che");
    private RenderedManifests _install = null!;
    private SimulatedNode _node = null!;
    private DriverProcess _driver = null!;

    public static TheoryData<string> InlinePods() =>
    [
        .. Manifests.RenderAsync(Examples).GetAwaiter().GetResult().OfType<V1Pod>()
            .Where(p => p.Spec.Volumes.Any(v => v.Csi is not null)).Select(p => p.Metadata.Name),
    ];

    public async Task InitializeAsync()
    {
        _install = await Manifests.RenderAsync("base");
        _node = new SimulatedNode(_root, "kind-worker", _install);
        _driver = await _node.StartDriverAsync();
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task CsiDriver_AllowsInlineVolumesAndSendsTheEphemeralKey()
    {
        var csiDriver = (await Manifests.RenderAsync("base")).CsiDriver;

        // kubelet refuses an inline volume of a driver whose CSIDriver does not list Ephemeral (csi_mounter.go,
        // supportsVolumeLifecycleMode), and adds csi.storage.k8s.io/ephemeral only with podInfoOnMount (SetUpAt).
        Assert.Contains("Ephemeral", csiDriver.Spec.VolumeLifecycleModes);
        Assert.Contains("Persistent", csiDriver.Spec.VolumeLifecycleModes);
        Assert.True(csiDriver.Spec.PodInfoOnMount);
    }

    [Theory]
    [MemberData(nameof(InlinePods))]
    public async Task InlineVolume_ExamplePod_PublishedWithItsAttributesAndRemovedWithThePod(string podName)
    {
        var pod = (await Manifests.RenderAsync(Examples)).OfType<V1Pod>().Single(p => p.Metadata.Name == podName);
        var source = pod.Spec.Volumes.Single(v => v.Csi is not null);
        Assert.Equal(_install.CsiDriver.Metadata.Name, source.Csi.Driver);
        var attributes = new Dictionary<string, string>(source.Csi.VolumeAttributes);
        var inline = new InlineVolume(_node.PathOnNode("/var/lib/kubelet"), Guid.NewGuid().ToString(), source.Name,
            attributes, source.Csi.FsType ?? "", source.Csi.ReadOnlyProperty ?? false, podName);

        await _driver.Client.Node.NodePublishVolumeAsync(inline.Publish());

        Assert.True(Mounts.IsMountPoint(inline.TargetPath), $"{inline.TargetPath} is not a mount point:\n{_driver.Output}");
        await File.WriteAllTextAsync(Path.Combine(inline.TargetPath, "hello.txt"), podName);
        if (attributes.GetValueOrDefault("backing") == "image")
        {
            // The example's promise: 64Mi holds, and writing 100 MiB runs out of space inside the volume.
            Assert.InRange(new DriveInfo(inline.TargetPath).TotalSize, 48L << 20, 64L << 20);
            var full = await Assert.ThrowsAnyAsync<IOException>(() => WriteMiBAsync(Path.Combine(inline.TargetPath, "fill"), 100));
            Assert.Contains("space", full.Message, StringComparison.OrdinalIgnoreCase);
        }

        await _driver.Client.UnpublishOnceFreeAsync(inline.VolumeId, inline.TargetPath);
        Assert.False(Mounts.IsMountPoint(inline.TargetPath));
        var stats = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await _driver.Client.Node.NodeGetVolumeStatsAsync(
            new NodeGetVolumeStatsRequest { VolumeId = inline.VolumeId, VolumePath = inline.TargetPath }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, stats.StatusCode);
    }

    [Fact]
    public async Task GenericEphemeral_Template_NamesAClassTheBaseCreates()
    {
        var pod = (await Manifests.RenderAsync(Examples)).OfType<V1Pod>().Single(p => p.Spec.Volumes.Any(v => v.Ephemeral is not null));
        var template = pod.Spec.Volumes.Single(v => v.Ephemeral is not null).Ephemeral.VolumeClaimTemplate.Spec;

        Assert.Contains(_install.OfType<V1StorageClass>(), sc => sc.Metadata.Name == template.StorageClassName);
        Assert.Equal(["ReadWriteOnce"], template.AccessModes);
    }

    private static async Task WriteMiBAsync(string path, int mebibytes)
    {
        var block = new byte[1 << 20];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.WriteThrough);
        for (int i = 0; i < mebibytes; i++)
            await file.WriteAsync(block);
    }
}
