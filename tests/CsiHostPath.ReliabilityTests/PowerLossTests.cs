using System.Text.Json;
using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// A power loss under the driver, which runs on the node harness (its own mount namespace, the data dir bind-mounted
/// in): the data dir is an xfs of the test's own on a loop device, cut where its on-disk log stops (`xfs_io -x -c
/// shutdown` without the flush flag); then, as after a reboot, every mount is gone, the data dir is mounted again
/// from what reached its disk (log recovery), and the driver starts in a fresh namespace.
/// </summary>
public sealed class PowerLossTests : DriverTest
{
    private static readonly Dictionary<string, string> Archive = new() { ["onDelete"] = "archive" };

    // xfs commits a rename to its log before the renamed file's data; ext4's auto_da_alloc would hide a missing fsync.
    protected override Task<DriverProcess> StartAsync(TempRoot root) => DriverProcess.StartOnNodeWithXfsDataDirAsync(root, 320L << 20);

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
            await Driver.Client.Node.NodePublishVolumeAsync(SingleWriter(acknowledged[i], Target(i)));
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = acknowledged[3], TargetPath = Target(3) });
        for (int i = 0; i < 2; i++)
            acknowledged.Add(await CreateAsync($"after-{i}", null));

        Driver.Node.CutPower();
        await Driver.KillAsync();
        Driver.Node.Reboot(afterPowerCut: true);
        await Driver.StartAsync();

        foreach (var id in acknowledged)
        {
            string record = Path.Combine(Driver.DataDir, "volumes", id, "volume.json");
            Assert.True(File.Exists(record), $"volume {id} was acknowledged, and its record is gone after the power loss");
            byte[] content = File.ReadAllBytes(record);
            Assert.True(content.Length > 0, $"the record of {id} is empty after the power loss");
            using var json = JsonDocument.Parse(content);
            Assert.Equal(id, json.RootElement.GetProperty("volumeId").GetString());
        }
        var listed = (await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.ToDictionary(e => e.Volume.VolumeId);
        foreach (var id in acknowledged)
            Assert.False(listed[id].Status.VolumeCondition.Abnormal, listed[id].Status.VolumeCondition.Message);
        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = acknowledged[0] });
        Assert.Single(Directory.GetDirectories(Path.Combine(Driver.DataDir, "archived"), "before-0-*"));
        // The pods come back under new uids: a stale single-writer publication would refuse them.
        foreach (var id in acknowledged.Skip(1))
            await Driver.Client.Node.NodePublishVolumeAsync(SingleWriter(id, Path.Combine(Driver.PodsDir, $"rescheduled-{id}")));
    }

    /// <summary>Whatever damaged a record (a disk, a hand), deleting its volume never erases what may be an archive volume's data.</summary>
    [Fact]
    public async Task DeleteVolume_RecordOfAnArchiveVolumeEmpty_ArchivesInsteadOfErasing()
    {
        string id = await CreateAsync("damaged-archive", Archive);
        string target = Target(0);
        await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(id, target));
        await File.WriteAllTextAsync(Path.Combine(target, "precious"), "keep me");
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target });
        await Driver.KillAsync();
        File.WriteAllBytes(Path.Combine(Driver.DataDir, "volumes", id, "volume.json"), []);
        await Driver.StartAsync();

        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });

        string archived = Assert.Single(Directory.GetDirectories(Path.Combine(Driver.DataDir, "archived")));
        Assert.StartsWith(id, Path.GetFileName(archived));
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(archived, "data", "precious")));
        Assert.False(Directory.Exists(Path.Combine(Driver.DataDir, "volumes", id)));
    }

    private static NodePublishVolumeRequest SingleWriter(string volumeId, string target) => new()
    {
        VolumeId = volumeId,
        TargetPath = target,
        VolumeCapability = Requests.MountCapability(VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeSingleWriter),
    };

    private string Target(int i) => Path.Combine(Driver.PodsDir, $"pod-{i}");

    private async Task<string> CreateAsync(string name, Dictionary<string, string>? parameters) =>
        (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create(name, 1 << 20, parameters))).Volume.VolumeId;
}
