using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// A node upgraded from the build with the in-house HTTP/2 server and hand-written SHA-256 keeps its volumes: the data
/// dir that build wrote (Fixtures/README.md says how it was made), served by this build with nothing converted.
/// </summary>
public sealed class UpgradeTests : IAsyncLifetime
{
    private const string DirectoryId = "4e29010feb00085b6116702708c5feb5";
    private const string ImageId = "872e7eb03ba6ea34aabe4c587779e7d8";
    private const string BlockId = "7b8b15b62778623990bf2a60b6573f67";
    private readonly TempRoot _root = new();
    private DriverProcess _driver = null!;

    public async Task InitializeAsync()
    {
        string dataDir = _root.Combine("data");
        Directory.CreateDirectory(dataDir);
        await using (var archive = new GZipStream(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "data-dir-bfb8b77.tar.gz")), CompressionMode.Decompress))
            await TarFile.ExtractToDirectoryAsync(archive, dataDir, overwriteFiles: false);
        _driver = await DriverProcess.StartAsync(_root);
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task DataDirOfTheEarlierBuild_IsListedPublishableAndDeletable()
    {
        var listed = await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.Equal([DirectoryId, BlockId, ImageId], listed.Entries.Select(e => e.Volume.VolumeId).Order(StringComparer.Ordinal));
        Assert.All(listed.Entries, e => Assert.False(e.Status.VolumeCondition.Abnormal, e.Status.VolumeCondition.Message));

        // external-provisioner retries CreateVolume with the same name and parameters: the same volume, not a second one.
        var retried = await _driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-upgrade-directory", 8 << 20, new Dictionary<string, string>
        {
            ["csi.storage.k8s.io/pvc/name"] = "data-directory",
            ["csi.storage.k8s.io/pvc/namespace"] = "upgrade",
            ["csi.storage.k8s.io/pv/name"] = "pvc-upgrade-directory",
        }));
        Assert.Equal(DirectoryId, retried.Volume.VolumeId);

        string directoryTarget = await PublishAsync(DirectoryId, "directory", MountCapability());
        string imageTarget = await PublishAsync(ImageId, "image", MountCapability());
        string blockTarget = await PublishAsync(BlockId, "block", BlockCapability());

        Assert.Equal("written by csi-hostpath bfb8b77 into a directory volume\n", await File.ReadAllTextAsync(Path.Combine(directoryTarget, "hello.txt")));
        Assert.Equal("written by csi-hostpath bfb8b77 into an ext4 image volume\n", await File.ReadAllTextAsync(Path.Combine(imageTarget, "hello.txt")));
        await using (var device = new FileStream(blockTarget, FileMode.Open, FileAccess.Read))
        {
            var canary = new byte[32];
            device.Seek(512, SeekOrigin.Begin);
            device.ReadExactly(canary);
            Assert.Equal("block volume canary from bfb8b77", Encoding.ASCII.GetString(canary));
        }

        foreach (var (id, target) in new[] { (DirectoryId, directoryTarget), (ImageId, imageTarget), (BlockId, blockTarget) })
        {
            await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });
            await _driver.Client.DeleteVolumeOnceFreeAsync(id);
        }
        Assert.Empty((await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_driver.DataDir, "volumes")));
        Assert.Empty(LoopFileSystem.LoopDevicesBeneath(_driver.DataDir));
    }

    private async Task<string> PublishAsync(string volumeId, string pod, VolumeCapability capability)
    {
        string target = _root.Combine("pods", pod, "volume");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var request = Requests.Publish(volumeId, target);
        request.VolumeCapability = capability;
        await _driver.Client.Node.NodePublishVolumeAsync(request);
        return target;
    }

    private static VolumeCapability MountCapability() => Requests.MountCapability(VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter);

    private static VolumeCapability BlockCapability() => new()
    {
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
        Block = new VolumeCapability.Types.BlockVolume(),
    };
}
