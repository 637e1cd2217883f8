using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// A driver serving image volumes from a data dir that is a real ext4 of its own on a loop device, with helpers to
/// look at what the kernel holds for each volume: its loop devices, their sizes, its mount.
/// </summary>
public sealed class ImageNode : IAsyncDisposable
{
    public const long MiB = 1 << 20;

    private readonly IReadOnlyList<string> _arguments;

    private ImageNode(TempRoot root, LoopFileSystem dataFs, DriverProcess driver, IReadOnlyList<string> arguments)
    {
        Root = root;
        DataFs = dataFs;
        Driver = driver;
        _arguments = arguments;
    }

    public TempRoot Root { get; }

    public LoopFileSystem DataFs { get; }

    public DriverProcess Driver { get; }

    public string DataDir => Driver.DataDir;

    public static async Task<ImageNode> StartAsync(string prefix, long dataBytes = 2048 * MiB, params string[] extraArgs)
    {
        var root = new TempRoot(prefix);
        var dataFs = LoopFileSystem.Create(root, "datafs", dataBytes);
        string socket = root.Combine("csi.sock");
        string dataDir = Path.Combine(dataFs.MountPoint, "csi");
        string[] arguments = ["--endpoint", "unix://" + socket, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId, "--log-level", "Debug", .. extraArgs];
        var driver = await DriverProcess.StartWithArgumentsAsync(root, socket, dataDir, arguments, new Dictionary<string, string>());
        return new ImageNode(root, dataFs, driver, arguments);
    }

    /// <summary>
    /// Another driver on this node's data dir and socket, started through <paramref name="launcher"/> (such as strace);
    /// <see cref="Driver"/> must have stopped.
    /// </summary>
    public Task<DriverProcess> StartAnotherAsync(IReadOnlyList<string> launcher) =>
        DriverProcess.StartWithArgumentsAsync(Root, Driver.SocketPath, DataDir, _arguments, new Dictionary<string, string>(), launcher);

    public string VolumeDir(string volumeId) => Path.Combine(DataDir, "volumes", volumeId);

    public string ImagePath(string volumeId) => Path.Combine(VolumeDir(volumeId), "image");

    public string MountPath(string volumeId) => Path.Combine(VolumeDir(volumeId), "mount");

    public static CreateVolumeRequest CreateRequest(string name, long bytes, string fsType)
    {
        var request = Requests.Create(name, bytes, new Dictionary<string, string> { ["backing"] = "image" });
        if (fsType == "block")
            request.VolumeCapabilities[0].Block = new VolumeCapability.Types.BlockVolume();
        else
            request.VolumeCapabilities[0].Mount.FsType = fsType;
        return request;
    }

    public async Task<string> CreateAsync(string name, long bytes, string fsType = "ext4") =>
        (await Driver.Client.Controller.CreateVolumeAsync(CreateRequest(name, bytes, fsType))).Volume.VolumeId;

    /// <summary>Publishes at a fresh target under the root, a directory or (block) a file, as kubelet prepares them.</summary>
    public async Task<string> PublishAsync(string volumeId, string pod, bool block = false)
    {
        string target = Root.Combine("pods", pod, block ? "dev" : "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var request = Requests.Publish(volumeId, target);
        if (block)
            request.VolumeCapability.Block = new VolumeCapability.Types.BlockVolume();
        await Driver.Client.Node.NodePublishVolumeAsync(request);
        return target;
    }

    public async Task UnpublishAsync(string volumeId, string target) =>
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });

    public async Task DeleteOnceAsync(string volumeId) =>
        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });

    /// <summary>DeleteVolume as external-provisioner makes it, retried while the volume is still in use.</summary>
    public Task DeleteAsync(string volumeId) => Driver.Client.DeleteVolumeOnceFreeAsync(volumeId);

    public async Task<Csi.V1.VolumeCondition> ConditionAsync(string volumeId) =>
        (await Driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId })).Status.VolumeCondition;

    public async Task<long> RecordedCapacityAsync(string volumeId) =>
        (await Driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId })).Volume.CapacityBytes;

    /// <summary>
    /// Loop devices backed by the volume's image, by the kernel's own (device, inode) of the backing file (losetup reads
    /// LOOP_GET_STATUS64), not by the path it shows.
    /// </summary>
    public IReadOnlyList<string> LoopDevicesOf(string volumeId) => LoopDevicesBackedBy(ImagePath(volumeId));

    /// <summary>Loop devices backed by the file at <paramref name="imagePath"/>, found as <see cref="LoopDevicesOf"/> finds them.</summary>
    public static IReadOnlyList<string> LoopDevicesBackedBy(string imagePath)
    {
        string[] image = LoopFileSystem.Run("stat", "-c", "%i %Hd:%Ld", imagePath).Split(' ', StringSplitOptions.TrimEntries);
        return LoopFileSystem.Run("losetup", "--list", "--noheadings", "--output", "NAME,BACK-INO,BACK-MAJ:MIN")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f[1] == image[0] && f[2] == image[1])
            .Select(f => f[0])
            .ToList();
    }

    /// <summary>Loop devices whose backing file is anywhere under this node's root: what a test must leave at zero.</summary>
    public IReadOnlyList<string> AllLoopDevices() => LoopFileSystem.LoopDevicesBeneath(DataFs.MountPoint);

    public static long DeviceSize(string device) => long.Parse(LoopFileSystem.Run("blockdev", "--getsize64", device).Trim());

    public long ImageLength(string volumeId) => new FileInfo(ImagePath(volumeId)).Length;

    /// <summary>Runs a call that the fault kills the driver in: it fails, and the process is gone.</summary>
    public async Task CrashDuringAsync(Func<Task> call)
    {
        await Assert.ThrowsAsync<RpcException>(call);
        var deadline = Stopwatch.StartNew();
        while (!HasExited())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "the driver outlived its fault");
            await Task.Delay(10);
        }
    }

    private bool HasExited()
    {
        try
        {
            return File.ReadAllText($"/proc/{Driver.Pid}/stat").Split(' ')[2] is "Z" or "X";
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        Mounts.DetachAllBeneath(Root.Combine("pods"));
        Root.Dispose();
    }
}
