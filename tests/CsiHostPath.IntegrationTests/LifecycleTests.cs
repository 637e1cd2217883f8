using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>The PVC lifecycle as external-provisioner and kubelet drive it, against the real driver with real mounts.</summary>
public sealed class LifecycleTests : DriverTest
{
    [Fact]
    public async Task PublishedVolume_DataWrittenThroughMount_SurvivesUnpublishAndRestart()
    {
        var volume = await CreateAsync("pvc-lifecycle");
        string target = Path.Combine(Driver.PodsDir, "a", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        Assert.True(Mounts.IsMountPoint(target));
        await File.WriteAllTextAsync(Path.Combine(target, "hello.txt"), "kept");

        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        Assert.False(Directory.Exists(target));
        await Driver.RestartAfterKillAsync();

        string second = Path.Combine(Driver.PodsDir, "b", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(second)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, second));
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(second, "hello.txt")));
    }

    [Fact]
    public async Task ReadOnlyPublish_ReadOnlyInTheDriversNamespace()
    {
        var volume = await CreateAsync("pvc-readonly");
        string target = Path.Combine(Driver.PodsDir, "ro");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true));

        Assert.True(Mounts.IsReadOnlyMount(target, Driver.Pid));
    }

    /// <summary>
    /// The target as the host and the pod's runtime see it, through Bidirectional propagation. A bind mount followed by
    /// a read-only remount propagates the mount, not the remount's flag: the host's copy stays writable.
    /// </summary>
    [Fact(Skip = "defect found by the node harness (issue 10, publish's area: Os/LinuxMounter.cs): a read-only publication is read-write outside the driver's namespace; the mount must be made read-only before it is attached (open_tree + mount_setattr + move_mount)")]
    public async Task ReadOnlyPublish_RefusesWritesOnTheHost()
    {
        var volume = await CreateAsync("pvc-readonly-host");
        string target = Path.Combine(Driver.PodsDir, "ro-host");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true));

        Assert.True(Mounts.IsReadOnlyMount(target));
        var error = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "x"), "x"));
        Assert.Contains("Read-only", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DeleteVolume_WhilePublished_FailsPreconditionAndKeepsData()
    {
        var volume = await CreateAsync("pvc-busy");
        string target = Path.Combine(Driver.PodsDir, "busy");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "data"), "precious");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("precious", await File.ReadAllTextAsync(Path.Combine(target, "data")));
    }

    private async Task<Volume> CreateAsync(string name) =>
        (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume;
}
