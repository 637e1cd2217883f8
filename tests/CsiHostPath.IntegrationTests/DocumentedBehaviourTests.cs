using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// What README.md's flag table and StorageClass parameters promise and no other test exercised: the socket's
/// refusal and mode, --max-volumes-per-node, --allow-image-overcommit, xfs's 300 MiB minimum, and ABORTED for a
/// second call on a volume while one is in flight.
/// </summary>
public sealed class DocumentedBehaviourTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    private readonly TempRoot _root = new();
    private readonly List<DriverProcess> _drivers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var driver in _drivers)
            await driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Endpoint_LiveSocket_SecondDriverRefusedFirstKeepsServingOnMode0660()
    {
        var first = await StartAsync();

        var second = new ProcessStartInfo(DriverProcess.ExecutablePath) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])["--endpoint", "unix://" + first.SocketPath, "--data-dir", _root.Combine("second-data"), "--node-id", DriverProcess.NodeId])
            second.ArgumentList.Add(arg);
        using var process = Process.Start(second)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("already serving", await output + error);
        Assert.Equal(DriverProcess.DriverName, (await first.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest())).Name);
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(first.SocketPath));
    }

    [Fact]
    public async Task MaxVolumesPerNode_Flag_IsWhatNodeGetInfoReports()
    {
        var driver = await StartAsync("--max-volumes-per-node", "7");

        var info = await driver.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());

        Assert.Equal(7, info.MaxVolumesPerNode);
    }

    /// <summary>
    /// Two 160 MiB images on a 256 MiB data dir: the second is refused, as the first's sparse file was promised its
    /// size, unless --allow-image-overcommit lets the promises add up to more than is free.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ImageVolumesPromisingMoreThanIsFree_RefusedUnlessOvercommitAllowed(bool allowOvercommit)
    {
        var dataFs = LoopFileSystem.Create(_root, "small", 256 * MiB);
        string dataDir = Path.Combine(dataFs.MountPoint, "csi");
        string socket = _root.Combine("small.sock");
        List<string> arguments = ["--endpoint", "unix://" + socket, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId];
        if (allowOvercommit)
            arguments.Add("--allow-image-overcommit");
        var driver = await DriverProcess.StartWithArgumentsAsync(_root, socket, dataDir, arguments, new Dictionary<string, string>());
        _drivers.Add(driver);
        var first = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-promised-1", 160 * MiB, Image))).Volume;
        var second = Requests.Create("pvc-promised-2", 160 * MiB, Image);

        if (allowOvercommit)
        {
            var volume = (await driver.Client.Controller.CreateVolumeAsync(second)).Volume;
            Assert.Equal(160 * MiB, volume.CapacityBytes);
            await driver.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
        }
        else
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await driver.Client.Controller.CreateVolumeAsync(second));
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        }
        await driver.Client.DeleteVolumeOnceFreeAsync(first.VolumeId);
    }

    /// <summary>xfsprogs refuses a filesystem below 300 MiB: a smaller request gets 300 MiB, and a limit below it is OUT_OF_RANGE.</summary>
    [Fact]
    public async Task XfsImageVolume_BelowItsMinimum_RoundedUpTo300MiBOrOutOfRange()
    {
        var driver = await StartAsync();

        var capacity = await driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest { Parameters = { Image }, VolumeCapabilities = { Xfs() } });
        var volume = (await driver.Client.Controller.CreateVolumeAsync(CreateXfs("pvc-xfs-small", 16 * MiB))).Volume;
        var limited = CreateXfs("pvc-xfs-limited", 16 * MiB);
        limited.CapacityRange.LimitBytes = 100 * MiB;
        var error = await Assert.ThrowsAsync<RpcException>(async () => await driver.Client.Controller.CreateVolumeAsync(limited));

        Assert.Equal(300 * MiB, capacity.MinimumVolumeSize);
        Assert.Equal(300 * MiB, volume.CapacityBytes);
        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
        Assert.Contains((300 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail);
        await driver.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
    }

    /// <summary>
    /// A second CreateVolume of a name whose first create is still making its filesystem: ABORTED, over the real
    /// socket. The second is sent only once the first has provably begun (its volume is in .staging) and not yet
    /// answered; a try where the first finished in between proves nothing and is made again with a new name.
    /// </summary>
    [Fact]
    public async Task SecondCallOnAVolumeWhileOneIsInFlight_Aborted()
    {
        var driver = await StartAsync();
        string staging = Path.Combine(driver.DataDir, ".staging");
        for (int attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 10, "the first CreateVolume never stayed in flight long enough to be raced");
            var request = CreateXfs($"pvc-inflight-{attempt}", 300 * MiB);
            var first = driver.Client.Controller.CreateVolumeAsync(request).ResponseAsync;
            var begun = Stopwatch.StartNew();
            while (!first.IsCompleted && !(Directory.Exists(staging) && Directory.EnumerateFileSystemEntries(staging).Any()) && begun.Elapsed < TimeSpan.FromSeconds(30))
                await Task.Delay(1);
            if (first.IsCompleted)
            {
                await first;
                continue;
            }
            try
            {
                await driver.Client.Controller.CreateVolumeAsync(request);
                Assert.True(first.IsCompleted, "the second CreateVolume succeeded while the first was still in flight");
                continue;
            }
            catch (RpcException e)
            {
                Assert.Equal(StatusCode.Aborted, e.StatusCode);
            }
            var volume = (await first).Volume;
            Assert.Equal(300 * MiB, volume.CapacityBytes);
            await driver.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
            return;
        }
    }

    /// <summary>
    /// "Only mkfs.*, e2fsck, resize2fs and xfs_growfs run as child processes": every execve of the driver and its children
    /// (strace -f) over the life of an ext4 and an xfs image volume, created, expanded, published, grown and deleted.
    /// </summary>
    [Fact]
    public async Task ChildProcesses_OnlyMkfsE2fsckResize2fsAndXfsGrowfs()
    {
        var driver = await StartAsync();
        string log = _root.Combine("execve.log");
        using (SyscallFault.Watch(driver.Pid, "execve", log))
        {
            foreach (var (request, grown) in new[] { (Requests.Create("pvc-exec-ext4", 16 * MiB, Image), 32 * MiB), (CreateXfs("pvc-exec-xfs", 300 * MiB), 320 * MiB) })
            {
                string id = (await driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
                await driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest { VolumeId = id, CapacityRange = new CapacityRange { RequiredBytes = grown } });
                string target = Path.Combine(driver.PodsDir, id);
                await driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
                try
                {
                    await driver.Client.Node.NodeExpandVolumeAsync(new NodeExpandVolumeRequest { VolumeId = id, VolumePath = target, CapacityRange = new CapacityRange { RequiredBytes = grown } });
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && !Capabilities.HasSysResource)
                {
                    // ext4 online growth without CAP_SYS_RESOURCE: refused, as README says.
                }
                await driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });
                // Another test's new mount namespace may hold the image's mount for a moment; the provisioner retries too.
                await driver.Client.DeleteVolumeOnceFreeAsync(id);
            }
        }

        var programs = File.ReadLines(log)
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, "execve\\(\"([^\"]+)\""))
            .Where(m => m.Success)
            .Select(m => Path.GetFileName(m.Groups[1].Value))
            .ToHashSet();
        Assert.Contains("mkfs.ext4", programs);
        Assert.Contains("mkfs.xfs", programs);
        Assert.Contains("xfs_growfs", programs);
        Assert.Subset(new HashSet<string> { "mkfs.ext4", "mkfs.xfs", "e2fsck", "resize2fs", "xfs_growfs" }, programs);
    }

    /// <summary>xfs as external-provisioner asks for it: the StorageClass's csi.storage.k8s.io/fstype becomes the capability's fs_type.</summary>
    private static VolumeCapability Xfs()
    {
        var capability = Requests.MountCapability();
        capability.Mount.FsType = "xfs";
        return capability;
    }

    private static CreateVolumeRequest CreateXfs(string name, long requiredBytes)
    {
        var request = Requests.Create(name, requiredBytes, Image);
        request.VolumeCapabilities[0] = Xfs();
        return request;
    }

    private async Task<DriverProcess> StartAsync(params string[] arguments)
    {
        var driver = await DriverProcess.StartAsync(_root, arguments);
        _drivers.Add(driver);
        return driver;
    }
}
