using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// A node reboot on the node harness: the driver dies with its namespace, and every mount and loop device goes, as
/// when the machine restarts; the image files stay on the data dir's disk. README.md promises that start-up attaches
/// image volumes anew and remounts them, and that an image that cannot be mounted marks only its own volume abnormal.
/// </summary>
public sealed class NodeRebootTests : DriverTest
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    [Fact]
    public async Task ImageVolumes_AfterReboot_AttachedAnewOnePerVolumeWithTheirData()
    {
        string[] ids = [await CreateAsync("pvc-reboot-a"), await CreateAsync("pvc-reboot-b")];
        foreach (var id in ids)
        {
            string target = Target(id, "before");
            await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
            await File.WriteAllTextAsync(Path.Combine(target, "kept"), id);
        }

        await RebootAsync();

        Assert.Equal(ids.Length, Driver.Node.LoopDevices().Count);
        var listed = await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.All(listed.Entries, e => Assert.False(e.Status.VolumeCondition.Abnormal, e.Status.VolumeCondition.Message));
        foreach (var id in ids)
        {
            string target = Target(id, "after");
            await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
            Assert.Equal(id, await File.ReadAllTextAsync(Path.Combine(target, "kept")));
            await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });
            await Driver.Client.DeleteVolumeOnceFreeAsync(id);
        }
        var left = Driver.Node.LoopDevices();
        Assert.True(left.Count == 0, $"loop devices left after every volume was deleted: {string.Join(", ", left.Select(d => d + " -> " + BackingFile(d)))}\n{Driver.Output}");
    }

    [Fact]
    public async Task UnmountableImage_AfterReboot_OnlyItsVolumeAbnormalAndItCanBeDeleted()
    {
        string broken = await CreateAsync("pvc-reboot-broken");
        string healthy = await CreateAsync("pvc-reboot-healthy");

        await RebootAsync(beforeStart: () =>
        {
            // The filesystem's first MiB, superblock included, gone: mount(2) cannot recognise it.
            using var image = new FileStream(Path.Combine(Driver.DataDir, "volumes", broken, "image"), FileMode.Open, FileAccess.Write);
            image.Write(new byte[MiB]);
        });

        var listed = (await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        Assert.True(listed[broken].Status.VolumeCondition.Abnormal);
        Assert.NotEmpty(listed[broken].Status.VolumeCondition.Message);
        Assert.False(listed[healthy].Status.VolumeCondition.Abnormal, listed[healthy].Status.VolumeCondition.Message);
        string target = Target(healthy, "after");
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(healthy, target));
        await File.WriteAllTextAsync(Path.Combine(target, "works"), "yes");
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = healthy, TargetPath = target });
        await Driver.Client.DeleteVolumeOnceFreeAsync(broken);
        await Driver.Client.DeleteVolumeOnceFreeAsync(healthy);
        Assert.Empty((await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries);
        Assert.Empty(Driver.Node.LoopDevices());
    }

    /// <summary>The machine goes down: the driver and its namespace die, then every target mount and loop device of the node goes.</summary>
    private async Task RebootAsync(Action? beforeStart = null)
    {
        await Driver.KillAsync();
        Driver.Node.Reboot();
        Assert.Empty(Driver.Node.LoopDevices());
        beforeStart?.Invoke();
        await Driver.StartAsync();
    }

    private async Task<string> CreateAsync(string name) =>
        (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create(name, 16 * MiB, Image))).Volume.VolumeId;

    private static string BackingFile(string device) =>
        File.ReadAllText(Path.Combine("/sys/block", Path.GetFileName(device), "loop", "backing_file")).TrimEnd('\n');

    /// <summary>A target as kubelet hands it over: its parent, the pod's directory, already made.</summary>
    private string Target(string volumeId, string pod) => Path.Combine(Directory.CreateDirectory(Path.Combine(Driver.PodsDir, pod)).FullName, volumeId);
}
