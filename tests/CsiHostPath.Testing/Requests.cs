using Csi.V1;

namespace CsiHostPath.Testing;

/// <summary>Requests shaped like external-provisioner's and kubelet's, with the fields a test varies as parameters.</summary>
public static class Requests
{
    public static VolumeCapability MountCapability(
        VolumeCapability.Types.AccessMode.Types.Mode mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeMultiWriter) =>
        new()
        {
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
            Mount = new VolumeCapability.Types.MountVolume(),
        };

    public static CreateVolumeRequest Create(string name, long requiredBytes = 1 << 20, IDictionary<string, string>? parameters = null)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes },
            VolumeCapabilities = { MountCapability() },
            AccessibilityRequirements = new TopologyRequirement
            {
                Requisite = { new Topology { Segments = { [DriverProcess.TopologyKey] = DriverProcess.NodeId } } },
                Preferred = { new Topology { Segments = { [DriverProcess.TopologyKey] = DriverProcess.NodeId } } },
            },
        };
        if (parameters is not null)
            request.Parameters.Add(parameters);
        return request;
    }

    public static NodePublishVolumeRequest Publish(string volumeId, string targetPath, bool readOnly = false) =>
        new()
        {
            VolumeId = volumeId,
            TargetPath = targetPath,
            VolumeCapability = MountCapability(),
            Readonly = readOnly,
        };
}
