using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// Issue 11 item 3: a node that cannot make a kind of volume (no mkfs, no /dev/loop-control) advertises no capacity
/// for it and refuses it with RESOURCE_EXHAUSTED. external-provisioner v6.3.0 (the tag deploy/base/daemonset.yaml pins),
/// pkg/controller/controller.go, checkError: only codes.ResourceExhausted, with a selected node and topology support
/// (mayReschedule, set in Provision), returns ProvisioningReschedule, which sends the PVC back to the scheduler for
/// another node; FAILED_PRECONDITION and every other code return ProvisioningFinished and the PVC stays on this node
/// for ever. The scheduler trusts GetCapacity (published as CSIStorageCapacity), so 0 keeps it from choosing us.
/// The driver runs in a mount namespace of its own where the missing part is hidden, as on a node that lacks it.
/// </summary>
public sealed class NodeInabilityTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    private readonly TempRoot _root = new();
    private DriverProcess? _driver;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task NodeWithoutMkfs_ImageMountVolumes_NoCapacityAndResourceExhaustedNamingTheTool()
    {
        // /sbin is a symlink to usr/sbin on merged-/usr systems; covering /usr/sbin then covers both.
        await StartAsync("for d in /usr/sbin /sbin; do [ -L $d ] || mount -t tmpfs chp-no-mkfs $d; done");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver!.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-no-mkfs", 16 << 20, Image)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("mkfs.ext4", error.Status.Detail);
        Assert.Equal(0, await CapacityAsync(Image, Requests.MountCapability()));
        // A block volume needs no mkfs, and a directory neither: those this node still makes.
        Assert.True(await CapacityAsync(Image, BlockCapability()) > 0);
        Assert.True(await CapacityAsync(new Dictionary<string, string>(), Requests.MountCapability()) > 0);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_driver!.DataDir, "volumes")));
    }

    [Fact]
    public async Task NodeWithoutLoopControl_ImageVolumes_NoCapacityAndResourceExhaustedNamingIt()
    {
        // A /dev of the driver's own with the devices a process needs, and no loop-control.
        string old = _root.Combine("host-dev");
        await StartAsync(
            $"mkdir -p {old} && mount --bind /dev {old} && mount -t tmpfs chp-no-loop /dev && "
            + $"for n in null zero random urandom; do touch /dev/$n && mount --bind {old}/$n /dev/$n; done && umount {old}");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver!.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-no-loop", 16 << 20, Image)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("/dev/loop-control", error.Status.Detail);
        Assert.Equal(0, await CapacityAsync(Image, Requests.MountCapability()));
        Assert.Equal(0, await CapacityAsync(Image, BlockCapability()));
        Assert.True(await CapacityAsync(new Dictionary<string, string>(), Requests.MountCapability()) > 0);
    }

    private async Task StartAsync(string hide)
    {
        string socket = _root.Combine("csi.sock"), dataDir = _root.Combine("data");
        _driver = await DriverProcess.StartWithArgumentsAsync(
            _root, socket, dataDir,
            ["--endpoint", "unix://" + socket, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId],
            new Dictionary<string, string>(),
            ["unshare", "--mount", "--propagation", "private", "sh", "-ec", hide + "; exec \"$0\" \"$@\""]);
    }

    private static VolumeCapability BlockCapability() => new()
    {
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
        Block = new VolumeCapability.Types.BlockVolume(),
    };

    private async Task<long> CapacityAsync(Dictionary<string, string> parameters, VolumeCapability capability) =>
        (await _driver!.Client.Controller.GetCapacityAsync(new GetCapacityRequest
        {
            Parameters = { parameters },
            VolumeCapabilities = { capability },
        })).AvailableCapacity;
}
