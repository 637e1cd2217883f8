using System.Globalization;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using static CsiHostPath.ReliabilityTests.Infrastructure.ImageNode;

namespace CsiHostPath.ReliabilityTests.ImageFaults;

/// <summary>
/// Issue 19 item 5: in a container with a /dev of its own (a tmpfs with only the runtime's default nodes), the loop
/// devices of image volumes attached before a container restart have no node in the new /dev. The driver makes
/// <c>/dev/loopN</c> from <c>/sys/block/loopN/dev</c> when it is missing, so the volumes it adopts can be published,
/// expanded and deleted.
/// </summary>
public sealed class PrivateDevTests : DriverTest
{
    protected override Task<DriverProcess> StartAsync(TempRoot root) => DriverProcess.StartOnNodeWithPrivateDevAsync(root);

    [Fact]
    public async Task ImageVolumesAttachedBeforeAContainerRestart_GetTheirDevNodes_AndPublishExpandDeleteWork()
    {
        string block = await CreateAsync("pvc-privdev-block", "block");
        string fs = await CreateAsync("pvc-privdev-ext4", "ext4");
        string blockDevice = DevicesOf(block).Single(), fsDevice = DevicesOf(fs).Single();

        await Driver.RestartAfterKillAsync();

        // The last mount listed at /dev is the one the driver sees: the container's tmpfs over the host's devtmpfs.
        Assert.Equal("csi-hostpath-dev", Driver.RunInMountNamespace("findmnt", "--noheadings", "--output", "SOURCE", "/dev").Trim().Split('\n')[^1]);
        // Adopted, not attached again: the same device, and its node in the fresh /dev has the kernel's numbers.
        Assert.Equal([blockDevice], DevicesOf(block));
        Assert.Equal([fsDevice], DevicesOf(fs));
        foreach (var device in (string[])[blockDevice, fsDevice])
            Assert.Equal(SysBlockNumbers(device), NodeNumbersInDriverNamespace(device));

        bool growFsOnNode = (await ExpandAsync(fs)).NodeExpansionRequired;
        Assert.False((await ExpandAsync(block)).NodeExpansionRequired);
        Assert.Equal(Grown, DeviceSize(blockDevice));

        string blockTarget = await PublishAsync(block, "privdev-block", "dev", new VolumeCapability.Types.BlockVolume());
        string fsTarget = await PublishAsync(fs, "privdev-fs", "mount", null);
        if (growFsOnNode)
        {
            await Driver.Client.Node.NodeExpandVolumeAsync(new NodeExpandVolumeRequest
            {
                VolumeId = fs,
                VolumePath = fsTarget,
                CapacityRange = new CapacityRange { RequiredBytes = Grown },
            });
        }
        // The pod writes past the old end of the block device and into the grown filesystem.
        using (var device = new FileStream(blockTarget, FileMode.Open, FileAccess.ReadWrite))
        {
            device.Position = Grown - 4096;
            device.Write(new byte[4096]);
        }
        await File.WriteAllBytesAsync(Path.Combine(fsTarget, "grown"), new byte[Initial]);
        Assert.True(FileSystemBytes(fsTarget) > Initial, $"the filesystem has {FileSystemBytes(fsTarget)} bytes after growing to {Grown}");

        foreach (var (volume, target) in ((string, string)[])[(block, blockTarget), (fs, fsTarget)])
        {
            await Driver.Client.UnpublishOnceFreeAsync(volume, target);
            await Driver.Client.DeleteVolumeOnceFreeAsync(volume);
        }
        Assert.Empty(Driver.Node.LoopDevices());
    }

    private const long Initial = 16 * MiB;
    private const long Grown = 48 * MiB;

    private async Task<string> CreateAsync(string name, string fsType) =>
        (await Driver.Client.Controller.CreateVolumeAsync(ImageNode.CreateRequest(name, Initial, fsType))).Volume.VolumeId;

    private IReadOnlyList<string> DevicesOf(string volumeId) =>
        LoopDevicesBackedBy(Path.Combine(Driver.DataDir, "volumes", volumeId, "image"));

    private Task<ControllerExpandVolumeResponse> ExpandAsync(string volumeId) =>
        Driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volumeId,
            CapacityRange = new CapacityRange { RequiredBytes = Grown },
        }).ResponseAsync;

    /// <summary>Publishes at a target kubelet-shaped under the pods dir: a file for a block volume, a directory otherwise.</summary>
    private async Task<string> PublishAsync(string volumeId, string pod, string leaf, VolumeCapability.Types.BlockVolume? block)
    {
        string target = Path.Combine(Driver.PodsDir, pod, leaf);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var request = Requests.Publish(volumeId, target);
        if (block is not null)
            request.VolumeCapability.Block = block;
        await Driver.Client.Node.NodePublishVolumeAsync(request);
        return target;
    }

    private static string SysBlockNumbers(string device) =>
        File.ReadAllText(Path.Combine("/sys/block", Path.GetFileName(device), "dev")).Trim();

    /// <summary>The major:minor of the node at <paramref name="device"/> in the driver's /dev (stat prints them in hex).</summary>
    private string NodeNumbersInDriverNamespace(string device)
    {
        string[] hex = Driver.RunInMountNamespace("stat", "--format", "%t %T", device).Trim().Split(' ');
        return $"{Convert.ToUInt32(hex[0], 16).ToString(CultureInfo.InvariantCulture)}:{Convert.ToUInt32(hex[1], 16).ToString(CultureInfo.InvariantCulture)}";
    }

    private static long FileSystemBytes(string path)
    {
        string[] fields = LoopFileSystem.Run("stat", "--file-system", "--format", "%b %S", path).Trim().Split(' ');
        return long.Parse(fields[0], CultureInfo.InvariantCulture) * long.Parse(fields[1], CultureInfo.InvariantCulture);
    }
}
