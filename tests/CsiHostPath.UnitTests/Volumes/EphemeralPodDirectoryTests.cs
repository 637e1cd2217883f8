using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class EphemeralPodDirectoryTests
{
    [Theory]
    [InlineData("/var/lib/kubelet/pods/0a1b-2c/volumes/kubernetes.io~csi/scratch/mount", "/var/lib/kubelet/pods/0a1b-2c")]
    [InlineData("/var/snap/microk8s/common/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount/", "/var/snap/microk8s/common/var/lib/kubelet/pods/u1")]
    [InlineData("/pods/u/volumes/kubernetes.io~csi/v/mount", "/pods/u")]
    public void Of_KubeletTarget_IsThePodDirectory(string target, string expected)
    {
        Assert.Equal(expected, EphemeralPodDirectory.Of(target));
    }

    [Theory]
    [InlineData("/tmp/targets/x/mount")]
    [InlineData("/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/data")]
    [InlineData("/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/v/mount")]
    [InlineData("/var/lib/kubelet/pods/../volumes/kubernetes.io~csi/v/mount")]
    [InlineData("/var/lib/kubelet/pods/u/../../pods/u/volumes/kubernetes.io~csi/v/mount")]
    [InlineData("/var/lib/kubelet/pods//volumes/kubernetes.io~csi/v/mount")]
    [InlineData("/var/lib/kubelet/plugins/u/volumes/kubernetes.io~csi/v/mount")]
    public void Of_OtherTarget_IsNull(string target)
    {
        Assert.Null(EphemeralPodDirectory.Of(target));
    }
}
