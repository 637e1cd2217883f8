using System.Security.Cryptography;
using System.Text;
using Csi.V1;

namespace CsiHostPath.Testing;

/// <summary>
/// A pod's inline CSI volume as kubelet publishes it (kubernetes pkg/volume/csi/csi_mounter.go): the volume handle
/// from makeVolumeHandle, csi-&lt;sha256(pod uid + volume name)&gt;; the target from getTargetPath,
/// &lt;kubelet root&gt;/pods/&lt;pod uid&gt;/volumes/kubernetes.io~csi/&lt;volume name&gt;/mount, whose parent SetUpAt creates
/// (0750) before the call; podAttributes' keys merged into the volumeAttributes (the CSIDriver has podInfoOnMount);
/// and the capability csi_client.go builds for ReadWriteOnce on a driver with SINGLE_NODE_MULTI_WRITER: mount access
/// with the inline volume's fsType (empty unless the pod sets it) and no mount flags.
/// </summary>
public sealed class InlineVolume
{
    public InlineVolume(string kubeletRoot, string podUid, string volumeName, IReadOnlyDictionary<string, string>? attributes = null,
        string fsType = "", bool readOnly = false, string podName = "scratch-pod", string podNamespace = "default")
    {
        PodUid = podUid;
        PodDirectory = Path.Combine(kubeletRoot, "pods", podUid);
        VolumeId = "csi-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(podUid + volumeName)));
        TargetPath = Path.Combine(PodDirectory, "volumes", "kubernetes.io~csi", volumeName, "mount");
        VolumeContext = new Dictionary<string, string>(attributes ?? new Dictionary<string, string>())
        {
            ["csi.storage.k8s.io/pod.name"] = podName,
            ["csi.storage.k8s.io/pod.namespace"] = podNamespace,
            ["csi.storage.k8s.io/pod.uid"] = podUid,
            ["csi.storage.k8s.io/serviceAccount.name"] = "default",
            ["csi.storage.k8s.io/ephemeral"] = "true",
        };
        FsType = fsType;
        ReadOnly = readOnly;
    }

    /// <summary>A fresh pod (a new uid) with one inline volume called "scratch".</summary>
    public static InlineVolume ForNewPod(string kubeletRoot, IReadOnlyDictionary<string, string>? attributes = null, string fsType = "") =>
        new(kubeletRoot, Guid.NewGuid().ToString(), "scratch", attributes, fsType);

    public string PodUid { get; }

    public string PodDirectory { get; }

    public string VolumeId { get; }

    public string TargetPath { get; }

    public Dictionary<string, string> VolumeContext { get; }

    public string FsType { get; }

    public bool ReadOnly { get; }

    /// <summary>kubelet's NodePublishVolume; creates the target's parent first, as SetUpAt does.</summary>
    public NodePublishVolumeRequest Publish()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(TargetPath)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        return new NodePublishVolumeRequest
        {
            VolumeId = VolumeId,
            TargetPath = TargetPath,
            Readonly = ReadOnly,
            VolumeContext = { VolumeContext },
            VolumeCapability = new VolumeCapability
            {
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeMultiWriter },
                Mount = new VolumeCapability.Types.MountVolume { FsType = FsType },
            },
        };
    }

    /// <summary>kubelet's TearDownAt: NodeUnpublishVolume with the same handle and target, retried until it answers OK.</summary>
    public NodeUnpublishVolumeRequest Unpublish() => new() { VolumeId = VolumeId, TargetPath = TargetPath };

    /// <summary>What kubelet does once a pod is gone for good: its whole pod directory is removed.</summary>
    public void RemovePodDirectory()
    {
        // A recursive delete through a mount would remove the volume's data itself.
        if (Mounts.Beneath(PodDirectory).Count > 0)
            throw new InvalidOperationException($"{PodDirectory} still has mounts: {string.Join(", ", Mounts.Beneath(PodDirectory))}");
        Directory.Delete(PodDirectory, recursive: true);
    }
}
