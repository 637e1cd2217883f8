using CsiHostPath.ConformanceTests.Infrastructure;

namespace CsiHostPath.ConformanceTests.HostileInput;

/// <summary>What a hostile call aims at: the driver, a real volume to misuse, and the canary tree it must leave alone.</summary>
public sealed record HostileContext(CsiEndpoint Endpoint, string VictimVolumeId, string CanaryDir)
{
    public Csi.V1.Controller.ControllerClient Controller => Endpoint.Client.Controller;

    public Csi.V1.Node.NodeClient Node => Endpoint.Client.Node;

    public VolumeRequests Requests => Endpoint.Requests;
}
