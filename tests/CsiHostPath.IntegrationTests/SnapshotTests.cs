using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// Snapshots, restores and clones of both backings, with real loop devices, on a data dir that is a filesystem of its
/// own: xfs made with reflink (blocks shared, a copy takes next to no space) and ext4 (no reflink: sparse-aware copies).
/// </summary>
public sealed partial class SnapshotTests : IDisposable
{
    private const long MiB = 1 << 20;
    private static readonly Dictionary<string, string> Image = new() { ["backing"] = "image" };
    private readonly TempRoot _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<(DriverProcess Driver, LoopFileSystem DataFs)> StartAsync(string fsType, long dataFsBytes = 1024 * MiB)
    {
        var dataFs = LoopFileSystem.Create(_root, "datafs", dataFsBytes, fsType);
        if (fsType == "xfs")
            Assert.Contains("reflink=1", LoopFileSystem.Run("xfs_info", dataFs.MountPoint));
        string socket = _root.Combine("csi.sock");
        string dataDir = Path.Combine(dataFs.MountPoint, "csi");
        var driver = await DriverProcess.StartWithArgumentsAsync(
            _root, socket, dataDir,
            ["--endpoint", "unix://" + socket, "--data-dir", dataDir, "--node-id", DriverProcess.NodeId],
            new Dictionary<string, string>());
        return (driver, dataFs);
    }

    [Theory]
    [InlineData("xfs")]
    [InlineData("ext4")]
    public async Task DirectoryVolume_RestoredSnapshot_IsTheTreeAsItWasWithEveryKindOfEntry(string fsType)
    {
        var (driver, dataFs) = await StartAsync(fsType);
        await using var _ = driver;
        var volume = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-tree", 64 * MiB))).Volume;
        string source = await PublishAsync(driver, volume, "source");
        Populate(source);
        long freeBefore = new DriveInfo(dataFs.MountPoint).AvailableFreeSpace;

        var snapshot = await SnapshotAsync(driver, "snap-tree", volume.VolumeId);

        long taken = freeBefore - new DriveInfo(dataFs.MountPoint).AvailableFreeSpace;
        // Changes after the snapshot must not reach it.
        await File.WriteAllTextAsync(Path.Combine(source, "a"), "changed");
        Directory.Delete(Path.Combine(source, "dir"), recursive: true);
        var restoreRequest = Requests.Create("pvc-restored", 64 * MiB);
        restoreRequest.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId } };
        var restored = (await driver.Client.Controller.CreateVolumeAsync(restoreRequest)).Volume;
        string copy = await PublishAsync(driver, restored, "restored");

        AssertPopulated(copy);
        Assert.Equal(snapshot.SnapshotId, restored.ContentSource.Snapshot.SnapshotId);
        // The 16 MiB file: shared blocks with reflink, a real copy without; size_bytes says what the copy occupies.
        if (fsType == "xfs")
            Assert.InRange(taken, -MiB, 4 * MiB);
        else
            Assert.InRange(taken, 16 * MiB, 24 * MiB);
        Assert.InRange(snapshot.SizeBytes, 16 * MiB, 20 * MiB);
    }

    [Fact]
    public async Task ImageVolume_SnapshotOfMountedFileSystem_RestoresLarger_RefusesSmallerAndOtherBacking_AndThaws()
    {
        var (driver, _) = await StartAsync("xfs");
        await using var __ = driver;
        // xfs in the image: growing a mounted ext4 needs CAP_SYS_RESOURCE, which test sandboxes often lack.
        var volume = (await driver.Client.Controller.CreateVolumeAsync(XfsImage("pvc-img", 320 * MiB))).Volume;
        string source = await PublishAsync(driver, volume, "img-source");
        await File.WriteAllTextAsync(Path.Combine(source, "before"), "kept");

        var snapshot = await SnapshotAsync(driver, "snap-img", volume.VolumeId);
        // Thawed again: a write to the source completes (on a frozen filesystem it would block).
        var write = File.WriteAllTextAsync(Path.Combine(source, "after"), "not in the snapshot");
        Assert.Same(write, await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(20))));

        var larger = XfsImage("pvc-img-larger", 352 * MiB);
        larger.VolumeContentSource = SnapshotSource(snapshot);
        var restored = (await driver.Client.Controller.CreateVolumeAsync(larger)).Volume;
        string copy = await PublishAsync(driver, restored, "img-restored");
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(copy, "before")));
        Assert.False(File.Exists(Path.Combine(copy, "after")));
        // Grown as NodeExpandVolume would grow it: 32 MiB more than the source's filesystem.
        Assert.InRange(new DriveInfo(copy).TotalSize - new DriveInfo(source).TotalSize, 24 * MiB, 32 * MiB);

        var smaller = XfsImage("pvc-img-smaller", 300 * MiB);
        smaller.CapacityRange.LimitBytes = 300 * MiB;
        smaller.VolumeContentSource = SnapshotSource(snapshot);
        var tooSmall = await Assert.ThrowsAsync<RpcException>(async () => await driver.Client.Controller.CreateVolumeAsync(smaller));
        Assert.Equal(StatusCode.OutOfRange, tooSmall.StatusCode);

        var directory = Requests.Create("pvc-img-as-dir", 64 * MiB);
        directory.VolumeContentSource = SnapshotSource(snapshot);
        var mismatch = await Assert.ThrowsAsync<RpcException>(async () => await driver.Client.Controller.CreateVolumeAsync(directory));
        Assert.Equal(StatusCode.InvalidArgument, mismatch.StatusCode);
        Assert.Contains("image", mismatch.Status.Detail);
        Assert.Contains("directory", mismatch.Status.Detail);
    }

    [Theory]
    [InlineData("ext4", 32)]
    [InlineData("xfs", 300)]
    public async Task ImageVolume_Clone_IsIndependentAtOnce_AndOutlivesItsSource(string imageFsType, long mebibytes)
    {
        var (driver, _) = await StartAsync("ext4");
        await using var __ = driver;
        var sourceRequest = Requests.Create("pvc-clone-src", mebibytes * MiB, Image);
        sourceRequest.VolumeCapabilities[0].Mount.FsType = imageFsType;
        var volume = (await driver.Client.Controller.CreateVolumeAsync(sourceRequest)).Volume;
        string source = await PublishAsync(driver, volume, "clone-src");
        await File.WriteAllTextAsync(Path.Combine(source, "shared"), "from the source");

        var request = Requests.Create("pvc-clone", mebibytes * MiB, Image);
        request.VolumeCapabilities[0].Mount.FsType = imageFsType;
        request.VolumeContentSource = new VolumeContentSource { Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = volume.VolumeId } };
        var clone = (await driver.Client.Controller.CreateVolumeAsync(request)).Volume;
        string copy = await PublishAsync(driver, clone, "clone");
        await File.WriteAllTextAsync(Path.Combine(copy, "only-in-clone"), "x");
        await File.WriteAllTextAsync(Path.Combine(source, "only-in-source"), "y");

        Assert.Equal("from the source", await File.ReadAllTextAsync(Path.Combine(copy, "shared")));
        Assert.False(File.Exists(Path.Combine(copy, "only-in-source")));
        Assert.False(File.Exists(Path.Combine(source, "only-in-clone")));
        await driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = source });
        await driver.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
        Assert.Equal("from the source", await File.ReadAllTextAsync(Path.Combine(copy, "shared")));
    }

    [Fact]
    public async Task Snapshot_ThatDoesNotFit_IsResourceExhausted_AndLeavesNothing()
    {
        var (driver, dataFs) = await StartAsync("ext4", 96 * MiB);
        await using var _ = driver;
        var volume = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-big", 64 * MiB))).Volume;
        string source = await PublishAsync(driver, volume, "big");
        var noise = new byte[MiB];
        Random.Shared.NextBytes(noise);
        await using (var file = new FileStream(Path.Combine(source, "big"), FileMode.Create))
        {
            for (int i = 0; i < 56; i++)
                file.Write(noise);
        }
        long freeBefore = new DriveInfo(dataFs.MountPoint).AvailableFreeSpace;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await SnapshotAsync(driver, "snap-big", volume.VolumeId));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Empty((await driver.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest())).Entries);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(driver.DataDir, ".staging")));
        Assert.InRange(freeBefore - new DriveInfo(dataFs.MountPoint).AvailableFreeSpace, -MiB, MiB);
    }

    [Fact]
    public async Task GroupSnapshot_OfTwoImageVolumes_RestoresEach_AndIsDeletedOnlyAsAGroup()
    {
        var (driver, _) = await StartAsync("xfs");
        await using var _d = driver;
        var first = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-g1", 32 * MiB, Image))).Volume;
        var second = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-g2", 32 * MiB, Image))).Volume;
        await File.WriteAllTextAsync(Path.Combine(await PublishAsync(driver, first, "g1"), "f"), "one");
        await File.WriteAllTextAsync(Path.Combine(await PublishAsync(driver, second, "g2"), "f"), "two");

        var group = (await driver.Client.GroupController.CreateVolumeGroupSnapshotAsync(new CreateVolumeGroupSnapshotRequest
        {
            Name = "group-1",
            SourceVolumeIds = { first.VolumeId, second.VolumeId },
        })).GroupSnapshot;

        Assert.Equal(2, group.Snapshots.Count);
        foreach (var (member, expected) in group.Snapshots.OrderBy(s => s.SourceVolumeId == first.VolumeId ? 0 : 1).Zip(["one", "two"]))
        {
            Assert.Equal(group.GroupSnapshotId, member.GroupSnapshotId);
            var restore = Requests.Create("pvc-from-" + expected, 32 * MiB, Image);
            restore.VolumeContentSource = SnapshotSource(member);
            var restored = (await driver.Client.Controller.CreateVolumeAsync(restore)).Volume;
            Assert.Equal(expected, await File.ReadAllTextAsync(Path.Combine(await PublishAsync(driver, restored, "r-" + expected), "f")));
        }
        var alone = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = group.Snapshots[0].SnapshotId }));
        Assert.Equal(StatusCode.InvalidArgument, alone.StatusCode);
        await driver.Client.GroupController.DeleteVolumeGroupSnapshotAsync(new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId });
        Assert.Empty((await driver.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest())).Entries);
        var gone = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.GroupController.GetVolumeGroupSnapshotAsync(new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    private static CreateVolumeRequest XfsImage(string name, long bytes)
    {
        var request = Requests.Create(name, bytes, Image);
        request.VolumeCapabilities[0].Mount.FsType = "xfs";
        return request;
    }

    private static VolumeContentSource SnapshotSource(Snapshot snapshot) =>
        new() { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId } };

    private static async Task<Snapshot> SnapshotAsync(DriverProcess driver, string name, string volumeId) =>
        (await driver.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = name, SourceVolumeId = volumeId })).Snapshot;

    private async Task<string> PublishAsync(DriverProcess driver, Volume volume, string pod)
    {
        string target = _root.Combine("pods", pod, "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        return target;
    }

    private static readonly DateTime Then = new(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);

    /// <summary>One of each kind of entry a tenant can make, with the attributes a copy must keep.</summary>
    private static void Populate(string root)
    {
        File.WriteAllText(Path.Combine(root, "a"), "original");
        File.SetUnixFileMode(Path.Combine(root, "a"), (UnixFileMode)0b110_100_000);
        LoopFileSystem.Run("chown", "1234:5678", Path.Combine(root, "a"));
        Assert.Equal(0, SetXattr(Path.Combine(root, "a"), "user.origin", Encoding.UTF8.GetBytes("tenant"), 6, 0));
        File.SetLastWriteTimeUtc(Path.Combine(root, "a"), Then);
        LoopFileSystem.Run("ln", Path.Combine(root, "a"), Path.Combine(root, "a-link"));
        Directory.CreateDirectory(Path.Combine(root, "dir", "sub"));
        File.WriteAllText(Path.Combine(root, "dir", "sub", "nested"), "deep");
        File.CreateSymbolicLink(Path.Combine(root, "escape"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(root, "dir", "up"), "../a");
        using (var sparse = new FileStream(Path.Combine(root, "sparse"), FileMode.Create))
        {
            sparse.SetLength(256 * MiB);
            sparse.Position = 128 * MiB;
            sparse.Write(new byte[4096].Select(_ => (byte)7).ToArray());
        }
        var big = new byte[16 * MiB];
        Random.Shared.NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "big"), big);
        LoopFileSystem.Run("mkfifo", Path.Combine(root, "fifo"));
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(root, "sock")));
        File.SetUnixFileMode(Path.Combine(root, "dir"), (UnixFileMode)0b111_101_000);
        Directory.SetLastWriteTimeUtc(Path.Combine(root, "dir"), Then);
    }

    private static void AssertPopulated(string root)
    {
        string a = Path.Combine(root, "a");
        Assert.Equal("original", File.ReadAllText(a));
        Assert.Equal((UnixFileMode)0b110_100_000, File.GetUnixFileMode(a));
        Assert.Equal("1234:5678", Stat(a, "%u:%g"));
        Assert.Equal(Then, File.GetLastWriteTimeUtc(a));
        var value = new byte[64];
        int length = GetXattr(a, "user.origin", value, value.Length);
        Assert.Equal("tenant", Encoding.UTF8.GetString(value, 0, Math.Max(0, length)));
        Assert.Equal(Stat(a, "%i"), Stat(Path.Combine(root, "a-link"), "%i"));
        Assert.Equal("deep", File.ReadAllText(Path.Combine(root, "dir", "sub", "nested")));
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(root, "escape")).LinkTarget);
        Assert.Equal("../a", new FileInfo(Path.Combine(root, "dir", "up")).LinkTarget);
        Assert.Equal((256 * MiB).ToString(), Stat(Path.Combine(root, "sparse"), "%s"));
        Assert.InRange(long.Parse(Stat(Path.Combine(root, "sparse"), "%b")) * 512, 4096, MiB);
        Assert.Equal("fifo", Stat(Path.Combine(root, "fifo"), "%F"));
        Assert.False(File.Exists(Path.Combine(root, "sock")));
        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(root, "dir")));
        Assert.Equal(Then, Directory.GetLastWriteTimeUtc(Path.Combine(root, "dir")));
    }

    private static string Stat(string path, string format) => LoopFileSystem.Run("stat", "-c", format, path).Trim();

    [DllImport("libc", EntryPoint = "setxattr", SetLastError = true)]
    private static extern int SetXattr(string path, string name, byte[] value, nint size, int flags);

    [DllImport("libc", EntryPoint = "getxattr", SetLastError = true)]
    private static extern int GetXattr(string path, string name, byte[] value, nint size);
}
