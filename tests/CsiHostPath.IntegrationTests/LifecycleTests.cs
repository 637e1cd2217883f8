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
    /// a read-only remount propagated the mount, not the remount's flag: the host's copy stayed writable. The mount is
    /// now made read-only while detached (open_tree, mount_setattr), then attached (move_mount).
    /// </summary>
    [Fact]
    public async Task ReadOnlyPublish_RefusesWritesOnTheHost()
    {
        var volume = await CreateAsync("pvc-readonly-host");
        string target = Path.Combine(Driver.PodsDir, "ro-host");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true));

        Assert.True(Mounts.IsReadOnlyMount(target));
        var error = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "x"), "x"));
        Assert.Contains("Read-only", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A kernel before 5.12 (faked: strace answers open_tree with ENOSYS) cannot make a mount read-only before other
    /// namespaces see it. Granting a writable mount for a read-only request would be silent data exposure, so the
    /// publish is refused and nothing is left mounted; a publish without flags needs no new API and still works.
    /// </summary>
    [Fact]
    public async Task ReadOnlyPublish_KernelWithoutOpenTree_RefusedNotGrantedWritable()
    {
        var volume = await CreateAsync("pvc-readonly-old-kernel");
        string target = Path.Combine(Driver.PodsDir, "ro-old-kernel");
        string log = Root.Combine("strace.log");
        using (SyscallFault.Fail(Driver.Pid, "open_tree", "ENOSYS", log))
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true)));

            Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
            Assert.Contains("Linux 5.12", error.Status.Detail, StringComparison.Ordinal);
            Assert.False(Mounts.IsMountPoint(target));
            await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        }

        Assert.True(Mounts.IsMountPoint(target));
        Assert.False(Mounts.IsReadOnlyMount(target));
        Assert.Contains("(INJECTED)", File.ReadAllText(log), StringComparison.Ordinal);
    }

    /// <summary>
    /// A read-only bind of a device node still lets whoever opens it write to the device, on the host as anywhere: a
    /// read-only raw block publication makes the loop device itself read-only, and a later writable one makes it
    /// writable again. Its targets must agree, since the device is one.
    /// </summary>
    [Fact]
    public async Task ReadOnlyBlockPublish_RefusesWritesToTheDeviceOnTheHost()
    {
        var create = Requests.Create("pvc-readonly-block", 8 << 20, new Dictionary<string, string> { ["backing"] = "image" });
        create.VolumeCapabilities[0].Block = new VolumeCapability.Types.BlockVolume();
        var volume = (await Driver.Client.Controller.CreateVolumeAsync(create)).Volume;
        string readOnlyTarget = Path.Combine(Driver.PodsDir, "block-ro");
        string writableTarget = Path.Combine(Driver.PodsDir, "block-rw");
        var publish = Requests.Publish(volume.VolumeId, readOnlyTarget, readOnly: true);
        publish.VolumeCapability = create.VolumeCapabilities[0];
        await Driver.Client.Node.NodePublishVolumeAsync(publish);

        // EPERM from the read-only device, which .NET reports as an access refusal.
        var denied = Assert.Throws<UnauthorizedAccessException>(() => WriteFirstBlock(readOnlyTarget));
        Assert.Contains("Operation not permitted", denied.InnerException?.Message, StringComparison.Ordinal);
        var mixed = publish.Clone();
        mixed.TargetPath = writableTarget;
        mixed.Readonly = false;
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Node.NodePublishVolumeAsync(mixed));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);

        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = readOnlyTarget });
        await Driver.Client.Node.NodePublishVolumeAsync(mixed);
        WriteFirstBlock(writableTarget);
    }

    private static void WriteFirstBlock(string device)
    {
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Write);
        stream.Write(new byte[4096].Select((_, i) => (byte)i).ToArray());
        stream.Flush(flushToDisk: true);
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
