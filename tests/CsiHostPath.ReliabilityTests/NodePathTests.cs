using System.Text.Json;
using Csi.V1;
using CsiHostPath.Client;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// The node path with what kubelet really sends and what real nodes really have: a block volume's stats path, a data
/// dir mounted nosuid,nodev,noexec, image filesystems a tenant could plant setuid binaries on, a full data disk.
/// </summary>
public sealed class NodePathTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };

    private readonly TempRoot _root = new("chp-nodepath");
    private DriverProcess? _driver;
    private LoopFileSystem? _dataFileSystem;

    private CsiClient Client => _driver!.Client;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        Mounts.DetachAllBeneath(_root.Combine("kubelet"));
        _dataFileSystem?.Dispose();
        Mounts.DetachAllBeneath(_root.Combine("data"));
        _root.Dispose();
    }

    private string Target(params string[] parts)
    {
        string target = _root.Combine(["kubelet", .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }

    /// <summary>
    /// Issue 11 item 2. kubelet's csiPlugin.NewBlockVolumeMapper (pkg/volume/csi/csi_plugin.go) builds its metrics with
    /// <c>NewMetricsCsi(handle, blockPath+"/"+podUID)</c>, blockPath being csi_block.go's GetGlobalMapPath,
    /// <c>plugins/kubernetes.io/csi/volumeDevices/&lt;pv&gt;/dev</c>; there MapBlockVolume (pkg/volume/util) has
    /// bind-mounted the publish path (csi_block.go getPublishPath). NodeGetVolumeStats comes for that path.
    /// </summary>
    [Fact]
    public async Task NodeGetVolumeStats_BlockVolumeAtKubeletsGlobalMapPath_Answers()
    {
        _driver = await DriverProcess.StartAsync(_root);
        var create = Requests.Create("pvc-block-stats", 16 * MiB, Image);
        create.VolumeCapabilities[0].Block = new VolumeCapability.Types.BlockVolume();
        var volume = (await Client.Controller.CreateVolumeAsync(create)).Volume;
        string podUid = "1f7e5c2a-7d3b-4a51-9b1e-0c2d3e4f5a6b";
        string publishPath = Target("plugins", "kubernetes.io", "csi", "volumeDevices", "publish", "pv-block", podUid);
        var publish = Requests.Publish(volume.VolumeId, publishPath);
        publish.VolumeCapability = create.VolumeCapabilities[0];
        await Client.Node.NodePublishVolumeAsync(publish);
        string mapPath = Target("plugins", "kubernetes.io", "csi", "volumeDevices", "pv-block", "dev", podUid);
        File.Create(mapPath).Dispose();
        LoopFileSystem.Run("mount", "--bind", publishPath, mapPath);

        foreach (var path in new[] { mapPath, publishPath })
        {
            var stats = await Client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = path });
            Assert.Equal(16 * MiB, stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Total);
            Assert.False(stats.VolumeCondition.Abnormal, stats.VolumeCondition.Message);
        }

        Mounts.Unmount(mapPath);
        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = publishPath });
        Assert.False(File.Exists(publishPath));
    }

    /// <summary>Issue 11 item 6: the read-only remount of a bind mount sets exactly the flags it is given.</summary>
    [Fact]
    public async Task NodePublishVolume_ReadOnlyFromANosuidNodevNoexecDataDir_KeepsThoseFlags()
    {
        Directory.CreateDirectory(_root.Combine("data"));
        LoopFileSystem.Run("mount", "-t", "tmpfs", "-o", "size=64m,nosuid,nodev,noexec", "chp-nodepath", _root.Combine("data"));
        _driver = await DriverProcess.StartAsync(_root);
        var volume = (await Client.Controller.CreateVolumeAsync(Requests.Create("pvc-ro-flags"))).Volume;
        string target = Target("pods", "ro", "volumes", "kubernetes.io~csi", "pv-ro", "mount");

        await Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true));

        var options = Mounts.OptionsOf(target);
        Assert.Subset(options.ToHashSet(), new HashSet<string> { "ro", "nosuid", "nodev", "noexec" });
        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
    }

    /// <summary>Issue 11 item 6: an image filesystem outlives its pods; what one pod planted must not give the next privileges.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NodePublishVolume_ImageFileSystem_NosuidNodev(bool readOnly)
    {
        _driver = await DriverProcess.StartAsync(_root);
        var volume = (await Client.Controller.CreateVolumeAsync(Requests.Create("pvc-image-flags", 32 * MiB, Image))).Volume;
        string target = Target("pods", "img", "volumes", "kubernetes.io~csi", "pv-img", "mount");

        await Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly));

        var options = Mounts.OptionsOf(target).ToHashSet();
        Assert.Subset(options, new HashSet<string> { "nosuid", "nodev" });
        Assert.Equal(readOnly, options.Contains("ro"));
        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
    }

    /// <summary>
    /// Issue 10 item 4, unpublish: a tenant of a directory volume fills the data dir's filesystem (ext4 made with -m 0, so
    /// root has no reserve either). Once the mount is gone the unpublish has succeeded; the record catches up later.
    /// </summary>
    [Fact]
    public async Task NodeUnpublishVolume_DataDirFull_OkAndRecordWrittenOnceThereIsRoom()
    {
        _dataFileSystem = LoopFileSystem.Create(_root, "data", 32 * MiB);
        _driver = await DriverProcess.StartAsync(_root);
        var volume = (await Client.Controller.CreateVolumeAsync(Requests.Create("pvc-full"))).Volume;
        string target = Target("pods", "full", "volumes", "kubernetes.io~csi", "pv-full", "mount");
        await Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        string record = Path.Combine(_driver.DataDir, "volumes", volume.VolumeId, "volume.json");
        string filler = Path.Combine(target, "filler");
        FillUntilFull(filler);

        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });

        Assert.False(Mounts.IsMountPoint(target));
        File.Delete(Path.Combine(_driver.DataDir, "volumes", volume.VolumeId, "data", "filler"));
        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        Assert.Empty(RecordedTargets(record));
        await Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
    }

    private static void FillUntilFull(string path)
    {
        var chunk = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        try
        {
            while (true)
            {
                file.Write(chunk);
                file.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the filesystem is full.
        }
        while (true)
        {
            try
            {
                File.WriteAllBytes(path + "-" + Guid.NewGuid().ToString("N"), new byte[4096]);
            }
            catch (IOException)
            {
                return;
            }
        }
    }

    private static string[] RecordedTargets(string record)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(record));
        return [.. json.RootElement.EnumerateObject()
            .Single(p => p.Name.Equals("publications", StringComparison.OrdinalIgnoreCase)).Value
            .EnumerateArray().Select(p => p.EnumerateObject().Single(f => f.Name.Equals("targetPath", StringComparison.OrdinalIgnoreCase)).Value.GetString()!)];
    }
}
