using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// Issue 11 item 6: StorageClass and PV mountOptions reach NodePublishVolume as VolumeCapability.MountVolume.MountFlags
/// (kubelet pkg/volume/csi/csi_mounter.go, csiMountMgr.SetUpAt: <c>mountOptions</c> passed to csi.NodePublishVolume).
/// The per-mount ones go on the bind mount at the target; lazytime, discard and context= belong to a filesystem, so
/// they go on an image volume's own filesystem and are refused for a directory volume. Checked as the host sees the
/// target: mountinfo's last field is the filesystem's (superblock's) options.
/// </summary>
public sealed class MountOptionsTests : DriverTest
{
    private const long MiB = 1 << 20;

    /// <summary>
    /// What kubelet adds with seLinuxMount: true in the CSIDriver (and the SELinuxMount or SELinuxMountReadWriteOncePod
    /// feature) for a pod with an SELinux label: csi_mounter.go SetUpAt calls util.AddSELinuxMountOption
    /// (pkg/volume/util/selinux.go), which appends <c>fmt.Sprintf("context=%q", label)</c>, quoted for the comma.
    /// </summary>
    private const string KubeletSeLinuxFlag = "context=\"system_u:object_r:container_file_t:s0:c0,c1\"";

    [Theory]
    [InlineData("ext4", 64)]
    [InlineData("xfs", 300)]
    public async Task ImageVolume_LazytimeAndDiscard_OnItsOwnFileSystemAndGoneWhenPublishedWithout(string fsType, long mebibytes)
    {
        string volumeId = await CreateImageAsync("pvc-fs-options-" + fsType, mebibytes, fsType);
        string first = KubeletTarget("uid-1", "pvc-fs-options");

        await Driver.Client.Node.NodePublishVolumeAsync(Publish(volumeId, first, "lazytime", "discard", "noatime"));

        var super = Mounts.SuperOptionsOf(first).Split(',');
        Assert.Contains("lazytime", super);
        Assert.Contains("discard", super);
        Assert.Subset(Mounts.OptionsOf(first).ToHashSet(), new HashSet<string> { "noatime", "nosuid", "nodev" });
        // One filesystem, one set of its options: a second target without them would change the first pod's.
        string second = KubeletTarget("uid-2", "pvc-fs-options");
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Node.NodePublishVolumeAsync(Publish(volumeId, second)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("lazytime,discard", refused.Status.Detail, StringComparison.Ordinal);

        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = first });
        await Driver.Client.Node.NodePublishVolumeAsync(Publish(volumeId, second));

        super = Mounts.SuperOptionsOf(second).Split(',');
        Assert.DoesNotContain("lazytime", super);
        Assert.DoesNotContain("discard", super);
    }

    [Theory]
    [InlineData("lazytime")]
    [InlineData("discard")]
    [InlineData(KubeletSeLinuxFlag)]
    public async Task DirectoryVolume_FileSystemOption_RefusedNamingIt(string flag)
    {
        string volumeId = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-dir-option"))).Volume.VolumeId;
        string target = KubeletTarget("uid-3", "pvc-dir-option");

        // Spec, NodePublishVolume errors: "Exceeds capabilities", FAILED_PRECONDITION.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Node.NodePublishVolumeAsync(Publish(volumeId, target, flag)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"'{flag}'", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(Mounts.IsMountPoint(target));
        var create = Requests.Create("pvc-dir-option-create");
        create.VolumeCapabilities[0].Mount.MountFlags.Add(flag);
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Controller.CreateVolumeAsync(create));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains($"'{flag}'", invalid.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// Exactly what kubelet sends with seLinuxMount enabled (see <see cref="KubeletSeLinuxFlag"/>), for an image volume.
    /// kubelet computes a label only where SELinux is enabled, and then skips the container runtime's relabelling
    /// (SetUpAt: needSELinuxRelabel stays false), so the context must be on the filesystem or the pod cannot read it.
    /// On a kernel with SELinux it is; on one without, the kernel refuses the option (as mount(8) does, EINVAL), and
    /// the driver says why instead of granting a mount without it.
    /// </summary>
    [Fact]
    public async Task ImageVolume_SeLinuxContextAsKubeletSendsIt_OnItsFileSystemOrRefusedWithoutSeLinux()
    {
        string volumeId = await CreateImageAsync("pvc-selinux", 64, "ext4");
        string target = KubeletTarget("uid-4", "pvc-selinux");
        var publish = Publish(volumeId, target, KubeletSeLinuxFlag);

        if (SeLinuxEnabled())
        {
            await Driver.Client.Node.NodePublishVolumeAsync(publish);
            Assert.Contains("context=\"system_u:object_r:container_file_t:s0:c0,c1\"", Mounts.SuperOptionsOf(target), StringComparison.Ordinal);
        }
        else
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Node.NodePublishVolumeAsync(publish));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("context=\"system_u:object_r:container_file_t:s0:c0,c1\" needs SELinux", refused.Status.Detail, StringComparison.Ordinal);
            Assert.False(Mounts.IsMountPoint(target));
        }
    }

    /// <summary>An unquoted comma would end the context and start another option in the mount data (say, suid).</summary>
    [Fact]
    public async Task ImageVolume_ContextWithCommaOutsideQuotes_Refused()
    {
        string volumeId = await CreateImageAsync("pvc-selinux-unquoted", 64, "ext4");
        string target = KubeletTarget("uid-5", "pvc-selinux-unquoted");

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await Driver.Client.Node.NodePublishVolumeAsync(Publish(volumeId, target, "context=system_u:object_r:container_file_t:s0,suid")));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("comma outside quotes", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(Mounts.IsMountPoint(target));
    }

    private async Task<string> CreateImageAsync(string name, long mebibytes, string fsType)
    {
        var request = Requests.Create(name, mebibytes * MiB, new Dictionary<string, string> { ["backing"] = "image" });
        request.VolumeCapabilities[0].Mount.FsType = fsType;
        return (await Driver.Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
    }

    private static NodePublishVolumeRequest Publish(string volumeId, string target, params string[] flags)
    {
        var request = Requests.Publish(volumeId, target);
        request.VolumeCapability.Mount.MountFlags.Add(flags);
        return request;
    }

    private string KubeletTarget(string podUid, string pv)
    {
        string target = Path.Combine(Driver.PodsDir, podUid, "volumes", "kubernetes.io~csi", pv, "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }

    private static bool SeLinuxEnabled() => File.ReadLines("/proc/filesystems").Any(l => l.EndsWith("\tselinuxfs", StringComparison.Ordinal));
}
