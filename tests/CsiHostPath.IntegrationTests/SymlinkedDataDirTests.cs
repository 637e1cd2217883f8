using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// Issue 10's first defect where it also showed without a container restart: a --data-dir that goes through a
/// symlink. The kernel names a loop device's backing file by its resolved path, so a driver that matched that path
/// against its own attached every published image again at each restart: a second loop device and a second filesystem
/// over one image, the volume reported abnormal, NodeExpandVolume failing, and DeleteVolume freeing nothing.
/// </summary>
public sealed class SymlinkedDataDirTests : DriverTest
{
    private const long MiB = 1 << 20;

    protected override Task<DriverProcess> StartAsync(TempRoot root) => DriverProcess.StartOnNodeWithSymlinkedDataDirAsync(root);

    [Fact]
    public async Task PublishedExt4Image_RestartsInFreshNamespaces_OneLoopDeviceOneFileSystemAndCleanAfterUnpublish()
    {
        var request = Requests.Create("pvc-symlinked-data-dir", 64 * MiB, new Dictionary<string, string> { ["backing"] = "image" });
        string volumeId = (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        string target = KubeletTarget("uid-1");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "before"), "written before the restarts");
        string device = Assert.Single(Driver.Node.LoopDevices());
        string imageMount = Path.Combine(Driver.Node.ContainerDataDir, "volumes", volumeId, "mount");
        // The driver was given --data-dir through a symlink in its own namespace.
        Assert.Equal("var/lib", new FileInfo($"/proc/{Driver.Pid}/root{Path.GetDirectoryName(Driver.Node.DataDirArgument)}").LinkTarget);

        for (int restart = 1; restart <= 2; restart++)
        {
            await Driver.RestartAfterKillAsync();

            Assert.Equal([device], Driver.Node.LoopDevices());
            Assert.Single(Mounts.Beneath(imageMount, Driver.Pid), m => m == imageMount);
            var state = await Driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId });
            Assert.False(state.Status.VolumeCondition.Abnormal, $"restart {restart}: {state.Status.VolumeCondition.Message}");
            Assert.Equal("written before the restarts", await File.ReadAllTextAsync(Path.Combine(target, "before")));
        }

        // A second publication made after the restarts shows the pod's filesystem, not a second one over the same image.
        string second = KubeletTarget("uid-2");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, second));
        Assert.Equal(Mounts.DeviceOf(target), Mounts.DeviceOf(second));
        Assert.Equal("written before the restarts", await File.ReadAllTextAsync(Path.Combine(second, "before")));
        await File.WriteAllTextAsync(Path.Combine(second, "after"), "written after the restarts");
        Assert.Equal("written after the restarts", await File.ReadAllTextAsync(Path.Combine(target, "after")));
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = second });
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });

        // Unpublished, an ext4 image grows offline: resize2fs must find the one device the filesystem is on.
        var expanded = await Driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volumeId,
            CapacityRange = new CapacityRange { RequiredBytes = 128 * MiB },
        });
        Assert.False(expanded.NodeExpansionRequired);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        Assert.InRange(new DriveInfo(target).TotalSize, 100 * MiB, 128 * MiB);
        Assert.Equal("written after the restarts", await File.ReadAllTextAsync(Path.Combine(target, "after")));
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
        Assert.Equal([device], Driver.Node.LoopDevices());

        // With the driver's namespace gone nothing mounts the filesystem any more: a read-only check sees it all.
        await Driver.KillAsync();
        LoopFileSystem.Run("e2fsck", "-fn", device);
        await Driver.StartAsync();
        await Driver.Client.DeleteVolumeOnceFreeAsync(volumeId);
        Assert.Empty(Driver.Node.LoopDevices());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Driver.DataDir, "volumes")));
    }

    private string KubeletTarget(string podUid)
    {
        string target = Path.Combine(Driver.PodsDir, podUid, "volumes", "kubernetes.io~csi", "pvc-symlinked-data-dir", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }
}
