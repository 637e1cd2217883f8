using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using SyscallFault = CsiHostPath.ReliabilityTests.Infrastructure.SyscallFault;
using Grpc.Core;
using static CsiHostPath.ReliabilityTests.Infrastructure.ImageNode;

namespace CsiHostPath.ReliabilityTests.ImageFaults;

/// <summary>
/// kill -9 at each step of creating, expanding and deleting an image volume, exactly at a chosen system call
/// (<see cref="SyscallFault"/>), then a restart and kubelet's or the provisioner's retry: the retry finishes the job
/// and leaves exactly one loop device per volume, or none after a delete, and a record that matches the device.
/// </summary>
public sealed class ImageCrashTests : IAsyncLifetime
{
    private const string Rename = "rename,renameat,renameat2";
    private const string Chmod = "chmod,fchmodat";
    private const int Sigcont = 18;
    private ImageNode _node = null!;

    public async Task InitializeAsync() => _node = await ImageNode.StartAsync("chp-imgcrash");

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public static TheoryData<string, string, int> CreateSteps => new()
    {
        { "ftruncate", "staging image", 1 },
        { Rename, "staging dir", 1 },
        { "ioctl", "/dev/loop-control", 1 },
        { "mount", "mount dir", 1 },
        // Between the mount and opening up the fresh root for every uid.
        { Chmod, "mount dir", 1 },
    };

    [Theory]
    [MemberData(nameof(CreateSteps))]
    public async Task CreateVolume_KilledAtAStep_RetryMakesOneUsableVolume(string syscalls, string where, int when)
    {
        const string name = "pvc-crash-create";
        string id = ExpectedVolumeId.For(name);
        string path = where switch
        {
            "staging image" => Path.Combine(_node.DataDir, ".staging", id, "image"),
            "staging dir" => Path.Combine(_node.DataDir, ".staging", id),
            "mount dir" => _node.MountPath(id),
            _ => where,
        };

        using (SyscallFault.KillAt(_node.Driver.Pid, syscalls, when, path))
            await _node.CrashDuringAsync(() => _node.CreateAsync(name, 16 * MiB));
        await _node.Driver.StartAsync();
        string volume = await _node.CreateAsync(name, 16 * MiB);

        Assert.Equal(id, volume);
        Assert.Single(_node.LoopDevicesOf(volume));
        Assert.False((await _node.ConditionAsync(volume)).Abnormal);
        string target = await _node.PublishAsync(volume, "after-crash");
        // Pods of any uid write to a fresh volume, whichever step the kill interrupted.
        Assert.Equal((UnixFileMode)0b111_111_111, File.GetUnixFileMode(target));
        await _node.UnpublishAsync(volume, target);
        await _node.DeleteAsync(volume);
        Assert.Empty(_node.AllLoopDevices());
    }

    public static TheoryData<string, string, int> ExpandSteps => new()
    {
        // The record is written first: killed before its rename, the volume has not grown at all.
        { Rename, "record", 1 },
        { "ftruncate", "image", 1 },
        // The device's ioctls: GET_STATUS64 (the device is checked), GET_STATUS64 and SET_STATUS64 (the new cap), SET_CAPACITY.
        { "ioctl", "device", 3 },
        { "ioctl", "device", 4 },
    };

    /// <summary>
    /// The retry asks for less than the killed call did, as a user may after a failed expansion: the volume then has what
    /// its record says, in the record, the image, the device, never more in one than in another.
    /// </summary>
    [Theory]
    [MemberData(nameof(ExpandSteps))]
    public async Task ExpandVolume_KilledAtAStep_RetryLeavesRecordImageAndDeviceAgreeing(string syscalls, string where, int when)
    {
        string volume = await _node.CreateAsync("pvc-crash-expand", 8 * MiB, "block");
        string device = _node.LoopDevicesOf(volume).Single();
        string path = where switch
        {
            // The rename of the new record's temp file over the record.
            "record" => Path.Combine(_node.VolumeDir(volume), "volume.json.tmp"),
            "image" => _node.ImagePath(volume),
            _ => device,
        };

        using (SyscallFault.KillAt(_node.Driver.Pid, syscalls, when, path))
            await _node.CrashDuringAsync(() => ExpandAsync(volume, 32 * MiB));
        await _node.Driver.StartAsync();
        long granted = (await ExpandAsync(volume, 16 * MiB)).CapacityBytes;

        Assert.Contains(granted, new[] { 16 * MiB, 32 * MiB });
        Assert.Equal(granted, await _node.RecordedCapacityAsync(volume));
        Assert.Equal(granted, _node.ImageLength(volume));
        Assert.Equal(granted, DeviceSize(_node.LoopDevicesOf(volume).Single()));
        await _node.DeleteAsync(volume);
        Assert.Empty(_node.AllLoopDevices());
    }

    public static TheoryData<string, string, int> DeleteSteps => new()
    {
        { "umount2", "mount dir", 1 },
        // GET_STATUS64 (the devices of the image are looked up), then LOOP_CLR_FD.
        { "ioctl", "device", 2 },
        { Rename, "volume dir", 1 },
    };

    [Theory]
    [MemberData(nameof(DeleteSteps))]
    public async Task DeleteVolume_KilledAtAStep_RetryRemovesTheVolumeAndItsLoopDevice(string syscalls, string where, int when)
    {
        string volume = await _node.CreateAsync("pvc-crash-delete", 16 * MiB);
        string path = where switch
        {
            "mount dir" => _node.MountPath(volume),
            "volume dir" => _node.VolumeDir(volume),
            _ => _node.LoopDevicesOf(volume).Single(),
        };

        using (SyscallFault.KillAt(_node.Driver.Pid, syscalls, when, path))
            await _node.CrashDuringAsync(() => _node.DeleteAsync(volume));
        await _node.Driver.StartAsync();
        await _node.DeleteAsync(volume);

        Assert.False(Directory.Exists(_node.VolumeDir(volume)));
        Assert.Empty(_node.AllLoopDevices());
        var gone = await Assert.ThrowsAsync<RpcException>(() => _node.ConditionAsync(volume));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>The data disk fills up between the capacity check and mkfs (the driver held at the image's ftruncate meanwhile).</summary>
    [Fact]
    public async Task CreateVolume_DiskFillsUpUnderMkfs_ResourceExhaustedAndNothingLeftBehind()
    {
        const string name = "pvc-mkfs-full";
        string image = Path.Combine(_node.DataDir, ".staging", ExpectedVolumeId.For(name), "image");
        string filler = Path.Combine(_node.DataFs.MountPoint, "filler");
        Task<string> create;
        using (var fault = SyscallFault.StopAt(_node.Driver.Pid, "ftruncate", 1, image))
        {
            create = _node.CreateAsync(name, 64 * MiB);
            fault.WaitUntilStopped();
            FillUp(filler);
            Native.Kill(_node.Driver.Pid, Sigcont);
            var error = await Assert.ThrowsAsync<RpcException>(() => create);

            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Contains("No space left on device", error.Status.Detail);
        }
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.DataDir, "volumes")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.DataDir, ".staging")));
        Assert.Empty(_node.AllLoopDevices());
        File.Delete(filler);
        File.Delete(filler + "-rest");
        await _node.CreateAsync(name, 64 * MiB);
    }

    /// <summary>Takes every byte left: most at once, the last ones by writing until ENOSPC.</summary>
    private void FillUp(string filler)
    {
        long free = new DriveInfo(_node.DataFs.MountPoint).AvailableFreeSpace;
        LoopFileSystem.Run("fallocate", "-l", (free - 4 * MiB).ToString(), filler);
        using var rest = new FileStream(filler + "-rest", FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[64 << 10];
        try
        {
            while (true)
                rest.Write(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: full, as intended.
        }
    }

    private Task<ControllerExpandVolumeResponse> ExpandAsync(string volume, long bytes) =>
        _node.Driver.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volume,
            CapacityRange = new CapacityRange { RequiredBytes = bytes },
        }).ResponseAsync;
}
