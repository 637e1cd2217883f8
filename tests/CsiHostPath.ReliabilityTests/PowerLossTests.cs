using System.Text.Json;
using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// A power loss under the driver: its data dir is an xfs of the test's own on a loop device, shut down with
/// `xfs_io -x -c shutdown` (no flush flag: what was not yet in the on-disk log is lost, as in a power cut), then
/// unmounted, mounted again (log recovery) and the driver started anew, as after a reboot.
/// </summary>
public sealed class PowerLossTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Archive = new() { ["onDelete"] = "archive" };
    private readonly TempRoot _root = new("chp-power");
    private LoopFileSystem _dataFs = null!;
    private DriverProcess _driver = null!;

    public async Task InitializeAsync()
    {
        // xfs commits a rename to its log before the renamed file's data; ext4's auto_da_alloc would hide a missing fsync.
        _dataFs = LoopFileSystem.Create(_root, "data", 320L << 20, "xfs");
        _driver = await DriverProcess.StartAsync(_root);
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    /// <summary>
    /// Issue 10 item 2: publishes and unpublishes rewrite records; a later create's fsync forces xfs's log, and with it
    /// the renames of records whose data was never written. Every acknowledged volume must come back readable, and
    /// an onDelete: archive volume must still be archived, not erased. A publication's record may come back as it was
    /// before the publish (its directory is not fsynced), and must not hold the volume: the reboot took the mount.
    /// </summary>
    [Fact]
    public async Task PowerLoss_AfterPublishesAndCreates_EveryAcknowledgedRecordIsIntactAndArchiveStillArchives()
    {
        var acknowledged = new List<string>();
        for (int i = 0; i < 4; i++)
            acknowledged.Add(await CreateAsync($"before-{i}", i < 2 ? Archive : null));
        for (int i = 0; i < 4; i++)
            await _driver.Client.Node.NodePublishVolumeAsync(SingleWriter(acknowledged[i], Target(i)));
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = acknowledged[3], TargetPath = Target(3) });
        for (int i = 0; i < 2; i++)
            acknowledged.Add(await CreateAsync($"after-{i}", null));

        LoopFileSystem.Run("xfs_io", "-x", "-c", "shutdown", _dataFs.MountPoint);
        await _driver.KillAsync();
        // A reboot takes every mount away: the pods' bind mounts first, then the data dir's filesystem.
        Mounts.DetachAllBeneath(_root.Combine("targets"));
        LoopFileSystem.Run("umount", _dataFs.MountPoint);
        // What reached the "disk" is the image file now. Another process's mount namespace made meanwhile (parallel tests,
        // a shared machine) may still hold the dead filesystem and its loop device, which mount(8) would reuse: the
        // rebooted node mounts a copy of the disk instead, as xfs would refuse a second live filesystem of the same UUID.
        string rebooted = _root.Combine("data-rebooted.img");
        LoopFileSystem.Run("cp", "--sparse=always", _dataFs.ImagePath, rebooted);
        LoopFileSystem.Run("mount", "-o", "loop,nouuid", rebooted, _dataFs.MountPoint);
        await _driver.StartAsync();

        foreach (var id in acknowledged)
        {
            string record = Path.Combine(_driver.DataDir, "volumes", id, "volume.json");
            Assert.True(File.Exists(record), $"volume {id} was acknowledged, and its record is gone after the power loss");
            byte[] content = File.ReadAllBytes(record);
            Assert.True(content.Length > 0, $"the record of {id} is empty after the power loss");
            using var json = JsonDocument.Parse(content);
            Assert.Equal(id, json.RootElement.GetProperty("volumeId").GetString());
        }
        var listed = (await _driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        foreach (var id in acknowledged)
            Assert.False(listed[id].Status.VolumeCondition.Abnormal, listed[id].Status.VolumeCondition.Message);
        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = acknowledged[0] });
        Assert.Single(Directory.GetDirectories(Path.Combine(_driver.DataDir, "archived"), "before-0-*"));
        // The pods come back under new uids: a stale single-writer publication would refuse them.
        foreach (var id in acknowledged.Skip(1))
            await _driver.Client.Node.NodePublishVolumeAsync(SingleWriter(id, _root.Combine("targets", $"rescheduled-{id}")));
    }

    /// <summary>Whatever damaged a record (a disk, a hand), deleting its volume never erases what may be an archive volume's data.</summary>
    [Fact]
    public async Task DeleteVolume_RecordOfAnArchiveVolumeEmpty_ArchivesInsteadOfErasing()
    {
        string id = await CreateAsync("damaged-archive", Archive);
        string target = Target(0);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
        await File.WriteAllTextAsync(Path.Combine(target, "precious"), "keep me");
        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });
        await _driver.KillAsync();
        File.WriteAllBytes(Path.Combine(_driver.DataDir, "volumes", id, "volume.json"), []);
        await _driver.StartAsync();

        await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });

        string archived = Assert.Single(Directory.GetDirectories(Path.Combine(_driver.DataDir, "archived")));
        Assert.StartsWith(id, Path.GetFileName(archived));
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(archived, "data", "precious")));
        Assert.False(Directory.Exists(Path.Combine(_driver.DataDir, "volumes", id)));
    }

    private static NodePublishVolumeRequest SingleWriter(string volumeId, string target) => new()
    {
        VolumeId = volumeId,
        TargetPath = target,
        VolumeCapability = Requests.MountCapability(VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeSingleWriter),
    };

    private string Target(int i) => _root.Combine("targets", $"pod-{i}");

    private async Task<string> CreateAsync(string name, Dictionary<string, string>? parameters) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name, 1 << 20, parameters))).Volume.VolumeId;
}
