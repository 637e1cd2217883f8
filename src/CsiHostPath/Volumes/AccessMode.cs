namespace CsiHostPath.Volumes;

/// <summary>CSI's VolumeCapability.AccessMode.Mode, without the protobuf dependency.</summary>
public enum AccessMode
{
    Unknown,
    SingleNodeWriter,
    SingleNodeReaderOnly,
    MultiNodeReaderOnly,
    MultiNodeSingleWriter,
    MultiNodeMultiWriter,
    SingleNodeSingleWriter,
    SingleNodeMultiWriter,
}
