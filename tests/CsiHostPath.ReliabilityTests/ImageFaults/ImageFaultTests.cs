using System.Diagnostics;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using static CsiHostPath.ReliabilityTests.Infrastructure.ImageNode;

namespace CsiHostPath.ReliabilityTests.ImageFaults;

/// <summary>
/// Image volumes under the faults of issue 19, each made for real: a filesystem shut down (xfs_io -x -c shutdown, which
/// works on ext4 too), remounted read-only, or erroring; a loop device held open by a process or by a mount in another
/// mount namespace; an image longer than its record; a data disk that fills up under mkfs.
/// </summary>
public sealed class ImageFaultTests : IAsyncLifetime
{
    private ImageNode _node = null!;

    public async Task InitializeAsync() => _node = await ImageNode.StartAsync("chp-imgfault");

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Theory]
    [InlineData("ext4", 16, "has been shut down")]
    [InlineData("xfs", 300, "Input/output error")]
    public async Task ShutDownFileSystem_IsAbnormalWithTheReason_SurvivesARestart_AndCanBeDeleted(string fsType, long mebibytes, string reason)
    {
        string volume = await _node.CreateAsync("pvc-shutdown-" + fsType, mebibytes * MiB, fsType);
        string target = await _node.PublishAsync(volume, "shutdown");
        await File.WriteAllTextAsync(Path.Combine(target, "written"), "before");

        LoopFileSystem.Run("xfs_io", "-x", "-c", "shutdown", target);

        var condition = await _node.ConditionAsync(volume);
        Assert.True(condition.Abnormal);
        Assert.Contains(reason, condition.Message);
        // kubelet's NodeGetVolumeStats on a failed filesystem: the volume is there, abnormal, not NOT_FOUND.
        var stats = await _node.Driver.Client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume, VolumePath = target });
        Assert.True(stats.VolumeCondition.Abnormal);
        Assert.Contains(reason, stats.VolumeCondition.Message);

        await _node.Driver.RestartAfterKillAsync();
        Assert.True((await _node.ConditionAsync(volume)).Abnormal);
        await _node.UnpublishAsync(volume, target);
        await _node.DeleteAsync(volume);

        Assert.False(Directory.Exists(_node.VolumeDir(volume)));
        Assert.Empty(_node.AllLoopDevices());
    }

    [Fact]
    public async Task FileSystemTurnedReadOnly_IsAbnormal_AndHealthyAgainOnceWritable()
    {
        string volume = await _node.CreateAsync("pvc-readonly", 16 * MiB);
        await _node.PublishAsync(volume, "readonly");

        // What errors=remount-ro does: the superblock itself becomes read-only, under every mount of it.
        LoopFileSystem.Run("mount", "-o", "remount,ro", _node.MountPath(volume));
        var condition = await _node.ConditionAsync(volume);
        LoopFileSystem.Run("mount", "-o", "remount,rw", _node.MountPath(volume));

        Assert.True(condition.Abnormal);
        Assert.Contains("read-only", condition.Message);
        Assert.False((await _node.ConditionAsync(volume)).Abnormal);
    }

    [Fact]
    public async Task Ext4ReportingErrors_IsAbnormalNamingThem()
    {
        string volume = await _node.CreateAsync("pvc-ext4-errors", 16 * MiB);
        await _node.PublishAsync(volume, "errors");
        string device = _node.LoopDevicesOf(volume).Single();

        // ext4's own error path (ext4_error), as a corrupted block met at run time takes it.
        await File.WriteAllTextAsync($"/sys/fs/ext4/{Path.GetFileName(device)}/trigger_fs_error", "test");

        // ext4 copies the count into its superblock from a work item, a moment after the error.
        var deadline = Stopwatch.StartNew();
        var condition = await _node.ConditionAsync(volume);
        while (!condition.Abnormal && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
            condition = await _node.ConditionAsync(volume);
        }
        Assert.True(condition.Abnormal);
        Assert.Contains("errors", condition.Message);
    }

    [Fact]
    public async Task DeleteVolume_BlockDeviceHeldOpenByAProcess_FailedPreconditionAndTheImageStaysAttached()
    {
        string volume = await _node.CreateAsync("pvc-held", 8 * MiB, "block");
        string target = await _node.PublishAsync(volume, "held", block: true);
        // As a pod's container holds it: through a device node of its own, not through the target's mount.
        var holder = new FileStream(_node.LoopDevicesOf(volume).Single(), FileMode.Open, FileAccess.ReadWrite);
        await _node.UnpublishAsync(volume, target);

        var refused = await Assert.ThrowsAsync<RpcException>(() => _node.DeleteOnceAsync(volume));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("in use", refused.Status.Detail);
        Assert.Single(_node.LoopDevicesOf(volume));
        holder.Write(new byte[4096]);
        holder.Flush(flushToDisk: true);
        await holder.DisposeAsync();
        // The refusal took back LOOP_CLR_FD's deferred detach: closing the device did not detach it.
        Assert.Single(_node.LoopDevicesOf(volume));
        await _node.DeleteAsync(volume);
        Assert.Empty(_node.AllLoopDevices());
    }

    [Fact]
    public async Task DeleteVolume_FileSystemMountedInAnotherMountNamespace_FailedPreconditionUntilThatMountIsGone()
    {
        string volume = await _node.CreateAsync("pvc-other-ns", 16 * MiB);
        string target = await _node.PublishAsync(volume, "other-ns");
        // A process in a mount namespace of its own, made while the volume was published: it keeps a copy of the mount.
        using var other = Process.Start(new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "sleep", "600"]) { UseShellExecute = false })!;
        try
        {
            await WaitUntilOwnMountNamespaceAsync(other.Id);
            await _node.UnpublishAsync(volume, target);

            var refused = await Assert.ThrowsAsync<RpcException>(() => _node.DeleteOnceAsync(volume));

            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Single(_node.LoopDevicesOf(volume));
        }
        finally
        {
            other.Kill();
            await other.WaitForExitAsync();
        }
        await _node.DeleteAsync(volume);
        Assert.Empty(_node.AllLoopDevices());
    }

    [Fact]
    public async Task ImageLongerThanItsRecord_AfterAReboot_IsAttachedAtTheRecordedSizeAndTruncatedBack()
    {
        string volume = await _node.CreateAsync("pvc-longer", 16 * MiB);
        await _node.Driver.KillAsync();
        // What a reboot leaves: nothing mounted, nothing attached; and an image an interrupted expansion made longer.
        LoopFileSystem.Run("umount", _node.MountPath(volume));
        foreach (var device in _node.LoopDevicesOf(volume))
            LoopFileSystem.Run("losetup", "-d", device);
        LoopFileSystem.Run("truncate", "-s", (32 * MiB).ToString(), _node.ImagePath(volume));

        await _node.Driver.StartAsync();

        Assert.Equal(16 * MiB, DeviceSize(_node.LoopDevicesOf(volume).Single()));
        Assert.Equal(16 * MiB, _node.ImageLength(volume));
        Assert.Equal(16 * MiB, await _node.RecordedCapacityAsync(volume));
        Assert.False((await _node.ConditionAsync(volume)).Abnormal);
    }

    [Fact]
    public async Task ExpandUnpublishedExt4_WithoutCapSysResource_GrowsItOffline()
    {
        string volume = await _node.CreateAsync("pvc-offline-grow", 16 * MiB);

        var expanded = await _node.Driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volume,
            CapacityRange = new CapacityRange { RequiredBytes = 48 * MiB },
        });

        string target = await _node.PublishAsync(volume, "offline-grow");
        long total = new DriveInfo(target).TotalSize;
        // With the capability, NodeExpandVolume grows it online (ImageVolumeTests); without, nothing is left for it to do.
        Assert.Equal(Capabilities.HasSysResource, expanded.NodeExpansionRequired);
        if (!Capabilities.HasSysResource)
            Assert.InRange(total, 40 * MiB, 48 * MiB);
        Assert.Equal(48 * MiB, DeviceSize(_node.LoopDevicesOf(volume).Single()));
    }

    private static async Task WaitUntilOwnMountNamespaceAsync(int pid)
    {
        string own = new FileInfo("/proc/self/ns/mnt").LinkTarget!;
        var deadline = Stopwatch.StartNew();
        while (new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget is not { } ns || ns == own || !File.ReadAllText($"/proc/{pid}/comm").StartsWith("sleep", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "unshare never entered its namespace");
            await Task.Delay(10);
        }
    }
}
