using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// The node harness itself: the driver in a mount namespace of its own, restarted after kill -9 in a fresh one, its
/// target mounts reaching the test as kubelet's Bidirectional pods dir makes them reach the host.
/// </summary>
public sealed class NodeHarnessTests : DriverTest
{
    [Fact]
    public async Task KillNine_RestartsInFreshNamespace_PublishedTargetAndDataOutliveIt()
    {
        string volumeId = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-harness"))).Volume.VolumeId;
        string target = Path.Combine(Driver.PodsDir, "uid-1", "volumes", "kubernetes.io~csi", "pvc-harness", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        // Made in the driver's namespace, seen in the test's: the pods dir propagates both ways.
        Assert.True(Mounts.IsMountPoint(target));
        await File.WriteAllTextAsync(Path.Combine(target, "payload"), "before the kill");
        Assert.NotEqual(MountNamespace(Environment.ProcessId), MountNamespace(Driver.Pid));
        // The driver sees its data dir at the container's path, and the test's namespace does not have that mount.
        Assert.Contains($" {Driver.Node.ContainerDataDir} ", File.ReadAllText($"/proc/{Driver.Pid}/mountinfo"), StringComparison.Ordinal);
        Assert.False(Mounts.IsMountPoint(Driver.Node.ContainerDataDir));
        int firstPid = Driver.Pid;
        // A mark in the container's own tmpfs: a namespace's inode number may be reused, a fresh tmpfs is empty.
        string mark = $"/proc/{firstPid}/root{Driver.Node.ContainerDataDir}/../mark";
        await File.WriteAllTextAsync(mark, "first namespace");

        await Driver.RestartAfterKillAsync();

        Assert.False(Directory.Exists($"/proc/{firstPid}"));
        Assert.False(File.Exists($"/proc/{Driver.Pid}/root{Driver.Node.ContainerDataDir}/../mark"));
        Assert.NotEqual(MountNamespace(Environment.ProcessId), MountNamespace(Driver.Pid));
        // The pod's mount outlived the driver's namespace, as on a node, and the new driver still knows it.
        Assert.True(Mounts.IsMountPoint(target));
        Assert.Equal("before the kill", await File.ReadAllTextAsync(Path.Combine(target, "payload")));
        Assert.Equal("before the kill", await File.ReadAllTextAsync(Path.Combine(Driver.DataDir, "volumes", volumeId, "data", "payload")));
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
        Assert.Empty(Driver.Node.TargetMounts());
        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Driver.DataDir, "volumes")));
    }

    [Fact]
    public async Task ImageVolume_AfterNamespaceDies_KernelNoLongerNamesBackingFileByDriversPath()
    {
        var request = Requests.Create("pvc-harness-image", 16 << 20, new Dictionary<string, string> { ["backing"] = "image" });
        string volumeId = (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        string target = Path.Combine(Driver.PodsDir, "uid-2", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        string device = Assert.Single(Driver.Node.LoopDevices());
        string containerImage = Path.Combine(Driver.Node.ContainerDataDir, "volumes", volumeId, "image");
        Assert.Equal(containerImage, BackingFile(device));

        await Driver.KillAsync();

        // What issue 10's first defect hinges on: the mount the image was opened through died with the namespace, so
        // the kernel now prints the path relative to it. The harness still finds the device by its backing inode.
        Assert.Equal($"/volumes/{volumeId}/image", BackingFile(device));
        Assert.Contains(device, Driver.Node.LoopDevices());
        Assert.True(Mounts.IsMountPoint(target));
    }

    private static string BackingFile(string device) =>
        File.ReadAllText(Path.Combine("/sys/block", Path.GetFileName(device), "loop", "backing_file")).TrimEnd('\n');

    private static string MountNamespace(int pid) => new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget!;
}
