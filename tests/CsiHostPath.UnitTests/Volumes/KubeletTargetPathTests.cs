using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class KubeletTargetPathTests
{
    [Theory]
    // csi_mounter.go GetPath and csi_block.go getPublishPath, under the default root and a custom one.
    [InlineData("/var/lib/kubelet/pods/6f1c/volumes/kubernetes.io~csi/pvc-1/mount", true)]
    [InlineData("/data/kubelet/pods/6f1c/volumes/kubernetes.io~csi/pvc-1/mount", true)]
    [InlineData("/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-1/6f1c", true)]
    [InlineData("/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-1", true)]
    [InlineData("/var/lib/kubelet/pods/6f1c/volumes/kubernetes.io~csi/pvc-1", false)]
    [InlineData("/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/", false)]
    [InlineData("/var/lib/kubelet/pods/6f1c/volumes/kubernetes.io~csi/../../../../../etc/mount", false)]
    [InlineData("/mnt/data", false)]
    public void Matches_KubeletShapedTargetsOnly(string path, bool expected) =>
        Assert.Equal(expected, KubeletTargetPath.Matches(path));
}
