using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>Well-formed requests for the node under test, as external-provisioner and kubelet send them; tests vary one field at a time.</summary>
public sealed class VolumeRequests(Topology nodeTopology, bool singleNodeMultiWriter)
{
    public const long DefaultSize = 1 << 20;

    /// <summary>The mode a pod's PVC gets: SINGLE_NODE_MULTI_WRITER when advertised, else the classic SINGLE_NODE_WRITER.</summary>
    public Mode DefaultMode { get; } = singleNodeMultiWriter ? Mode.SingleNodeMultiWriter : Mode.SingleNodeWriter;

    public VolumeCapability Capability(Mode? mode = null, string fsType = "") =>
        new()
        {
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode ?? DefaultMode },
            Mount = new VolumeCapability.Types.MountVolume { FsType = fsType },
        };

    public static VolumeCapability BlockCapability(Mode mode = Mode.SingleNodeWriter) =>
        new()
        {
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
            Block = new VolumeCapability.Types.BlockVolume(),
        };

    public CreateVolumeRequest Create(string name, long requiredBytes = DefaultSize, long limitBytes = 0) =>
        new()
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes, LimitBytes = limitBytes },
            VolumeCapabilities = { Capability() },
            AccessibilityRequirements = new TopologyRequirement
            {
                Requisite = { nodeTopology.Clone() },
                Preferred = { nodeTopology.Clone() },
            },
        };

    public NodePublishVolumeRequest Publish(string volumeId, string targetPath, bool readOnly = false, Mode? mode = null) =>
        new()
        {
            VolumeId = volumeId,
            TargetPath = targetPath,
            VolumeCapability = Capability(mode),
            Readonly = readOnly,
        };

    public static NodeUnpublishVolumeRequest Unpublish(string volumeId, string targetPath) =>
        new() { VolumeId = volumeId, TargetPath = targetPath };
}
