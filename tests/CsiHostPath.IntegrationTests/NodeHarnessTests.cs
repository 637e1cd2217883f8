using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// The node harness itself: the driver in a mount namespace of its own, restarted after kill -9 in a fresh one, its
/// target mounts reaching the test as kubelet's Bidirectional pods dir makes them reach the host.
/// </summary>
public sealed class NodeHarnessTests : IAsyncLifetime
{
    private readonly TempRoot _root = new();
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartOnNodeAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task KillNine_RestartsInFreshNamespace_PublishedTargetAndDataOutliveIt()
    {
        string volumeId = (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-harness"))).Volume.VolumeId;
        string target = Path.Combine(_driver.PodsDir, "uid-1", "volumes", "kubernetes.io~csi", "pvc-harness", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        // Made in the driver's namespace, seen in the test's: the pods dir propagates both ways.
        Assert.True(Mounts.IsMountPoint(target));
        await File.WriteAllTextAsync(Path.Combine(target, "payload"), "before the kill");
        Assert.NotEqual(MountNamespace(Environment.ProcessId), MountNamespace(_driver.Pid));
        // The driver sees its data dir at the container's path, and the test's namespace does not have that mount.
        Assert.Contains($" {_driver.Node.ContainerDataDir} ", File.ReadAllText($"/proc/{_driver.Pid}/mountinfo"), StringComparison.Ordinal);
        Assert.False(Mounts.IsMountPoint(_driver.Node.ContainerDataDir));
        int firstPid = _driver.Pid;
        // A mark in the container's own tmpfs: a namespace's inode number may be reused, a fresh tmpfs is empty.
        string mark = $"/proc/{firstPid}/root{_driver.Node.ContainerDataDir}/../mark";
        await File.WriteAllTextAsync(mark, "first namespace");

        await _driver.RestartAfterKillAsync();

        Assert.False(Directory.Exists($"/proc/{firstPid}"));
        Assert.False(File.Exists($"/proc/{_driver.Pid}/root{_driver.Node.ContainerDataDir}/../mark"));
        Assert.NotEqual(MountNamespace(Environment.ProcessId), MountNamespace(_driver.Pid));
        // The pod's mount outlived the driver's namespace, as on a node, and the new driver still knows it.
        Assert.True(Mounts.IsMountPoint(target));
        Assert.Equal("before the kill", await File.ReadAllTextAsync(Path.Combine(target, "payload")));
        Assert.Equal("before the kill", await File.ReadAllTextAsync(Path.Combine(_driver.DataDir, "volumes", volumeId, "data", "payload")));
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
        Assert.Empty(_driver.Node.TargetMounts());
        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver.DataDir, "volumes")));
    }

    [Fact]
    public async Task ImageVolume_AfterNamespaceDies_KernelNoLongerNamesBackingFileByDriversPath()
    {
        var request = Requests.Create("pvc-harness-image", 16 << 20, new Dictionary<string, string> { ["backing"] = "image" });
        string volumeId = (await _driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
        string target = Path.Combine(_driver.PodsDir, "uid-2", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));
        string device = Assert.Single(_driver.Node.LoopDevices());
        string containerImage = Path.Combine(_driver.Node.ContainerDataDir, "volumes", volumeId, "image");
        Assert.Equal(containerImage, BackingFile(device));

        await _driver.KillAsync();

        // What issue 10's first defect hinges on: the mount the image was opened through died with the namespace, so
        // the kernel now prints the path relative to it. The harness still finds the device by its backing inode.
        Assert.Equal($"/volumes/{volumeId}/image", BackingFile(device));
        Assert.Contains(device, _driver.Node.LoopDevices());
        Assert.True(Mounts.IsMountPoint(target));
    }

    private static string BackingFile(string device) =>
        File.ReadAllText(Path.Combine("/sys/block", Path.GetFileName(device), "loop", "backing_file")).TrimEnd('\n');

    private static string MountNamespace(int pid) => new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget!;
}
