using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// Issue 10's first defect where it also showed without a container restart: a --data-dir that goes through a
/// symlink. The kernel names a loop device's backing file by its resolved path, so a driver that matched that path
/// against its own attached every published image again at each restart: a second loop device and a second filesystem
/// over one image, the volume reported abnormal, NodeExpandVolume failing, and DeleteVolume freeing nothing.
/// </summary>
public sealed class SymlinkedDataDirTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;
    private readonly TempRoot _root = new();
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartOnNodeWithSymlinkedDataDirAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task PublishedExt4Image_RestartsInFreshNamespaces_OneLoopDeviceOneFileSystemAndCleanAfterUnpublish()
    {
        var request = Requests.Create("pvc-symlinked-data-dir", 64 * MiB, new Dictionary<string, string> { ["backing"] = "image" });
        string volumeId = (await _driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        string target = KubeletTarget("uid-1");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "before"), "written before the restarts");
        string device = Assert.Single(_driver.Node.LoopDevices());
        string imageMount = Path.Combine(_driver.Node.ContainerDataDir, "volumes", volumeId, "mount");

        for (int restart = 1; restart <= 2; restart++)
        {
            await _driver.RestartAfterKillAsync();

            Assert.Equal([device], _driver.Node.LoopDevices());
            Assert.Single(Mounts.Beneath(imageMount, _driver.Pid), m => m == imageMount);
            var state = await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId });
            Assert.False(state.Status.VolumeCondition.Abnormal, $"restart {restart}: {state.Status.VolumeCondition.Message}");
            Assert.Equal("written before the restarts", await File.ReadAllTextAsync(Path.Combine(target, "before")));
        }

        // A second publication made after the restarts shows the pod's filesystem, not a second one over the same image.
        string second = KubeletTarget("uid-2");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, second));
        Assert.Equal(Mounts.DeviceOf(target), Mounts.DeviceOf(second));
        Assert.Equal("written before the restarts", await File.ReadAllTextAsync(Path.Combine(second, "before")));
        await File.WriteAllTextAsync(Path.Combine(second, "after"), "written after the restarts");
        Assert.Equal("written after the restarts", await File.ReadAllTextAsync(Path.Combine(target, "after")));
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = second });
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });

        // Unpublished, an ext4 image grows offline: resize2fs must find the one device the filesystem is on.
        var expanded = await _driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volumeId,
            CapacityRange = new CapacityRange { RequiredBytes = 128 * MiB },
        });
        Assert.False(expanded.NodeExpansionRequired);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        Assert.InRange(new DriveInfo(target).TotalSize, 100 * MiB, 128 * MiB);
        Assert.Equal("written after the restarts", await File.ReadAllTextAsync(Path.Combine(target, "after")));
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
        Assert.Equal([device], _driver.Node.LoopDevices());

        // With the driver's namespace gone nothing mounts the filesystem any more: a read-only check sees it all.
        await _driver.KillAsync();
        LoopFileSystem.Run("e2fsck", "-fn", device);
        await _driver.StartAsync();
        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });
        Assert.Empty(_driver.Node.LoopDevices());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, "volumes")));
    }

    private string KubeletTarget(string podUid)
    {
        string target = Path.Combine(_driver.PodsDir, podUid, "volumes", "kubernetes.io~csi", "pvc-symlinked-data-dir", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }
}
