using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;
using PluginCapability = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace CsiHostPath.ConformanceTests;

/// <summary>
/// Spec "Error Scheme", Call not implemented: an RPC whose capability is not advertised answers UNIMPLEMENTED (never
/// UNKNOWN, never a half-done operation). Requests are well-formed and name a real volume, so no earlier check can
/// answer first. A driver that does advertise the capability must instead implement the RPC.
/// </summary>
public sealed class UnadvertisedRpcTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private const string DummySnapshotId = "0123456789abcdef0123456789abcdef";

    private sealed record Rpc(Func<CsiEndpoint, bool> Advertised, Func<CsiEndpoint, string, string, Task> Call);

    private static readonly Dictionary<string, Rpc> Rpcs = new()
    {
        ["ControllerPublishVolume"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.PublishUnpublishVolume),
            (e, volumeId, _) => e.Client.Controller.ControllerPublishVolumeAsync(new ControllerPublishVolumeRequest
            {
                VolumeId = volumeId,
                NodeId = e.NodeId,
                VolumeCapability = e.Requests.Capability(),
            }).ResponseAsync),
        ["ControllerUnpublishVolume"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.PublishUnpublishVolume),
            (e, volumeId, _) => e.Client.Controller.ControllerUnpublishVolumeAsync(new ControllerUnpublishVolumeRequest
            {
                VolumeId = volumeId,
                NodeId = e.NodeId,
            }).ResponseAsync),
        ["CreateSnapshot"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.CreateDeleteSnapshot),
            (e, volumeId, _) => e.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest
            {
                SourceVolumeId = volumeId,
                Name = VolumeNames.New("snapshot"),
            }).ResponseAsync),
        ["DeleteSnapshot"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.CreateDeleteSnapshot),
            (e, _, _) => e.Client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = DummySnapshotId }).ResponseAsync),
        ["ListSnapshots"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.ListSnapshots),
            (e, _, _) => e.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest()).ResponseAsync),
        ["GetSnapshot"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.GetSnapshot),
            (e, _, _) => e.Client.Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = DummySnapshotId }).ResponseAsync),
        ["ControllerExpandVolume"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.ExpandVolume),
            (e, volumeId, _) => e.Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
            {
                VolumeId = volumeId,
                CapacityRange = new CapacityRange { RequiredBytes = 4 << 20 },
                VolumeCapability = e.Requests.Capability(),
            }).ResponseAsync),
        ["ControllerModifyVolume"] = new(
            e => e.ControllerCapabilities.Contains(ControllerCapability.ModifyVolume),
            (e, volumeId, _) => e.Client.Controller.ControllerModifyVolumeAsync(new ControllerModifyVolumeRequest
            {
                VolumeId = volumeId,
                MutableParameters = { ["iops"] = "3000" },
            }).ResponseAsync),
        ["NodeStageVolume"] = new(
            e => e.NodeCapabilities.Contains(NodeCapability.StageUnstageVolume),
            (e, volumeId, path) => e.Client.Node.NodeStageVolumeAsync(new NodeStageVolumeRequest
            {
                VolumeId = volumeId,
                StagingTargetPath = path,
                VolumeCapability = e.Requests.Capability(),
            }).ResponseAsync),
        ["NodeUnstageVolume"] = new(
            e => e.NodeCapabilities.Contains(NodeCapability.StageUnstageVolume),
            (e, volumeId, path) => e.Client.Node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest
            {
                VolumeId = volumeId,
                StagingTargetPath = path,
            }).ResponseAsync),
        ["NodeExpandVolume"] = new(
            e => e.NodeCapabilities.Contains(NodeCapability.ExpandVolume),
            (e, volumeId, path) => e.Client.Node.NodeExpandVolumeAsync(new NodeExpandVolumeRequest
            {
                VolumeId = volumeId,
                VolumePath = path,
                CapacityRange = new CapacityRange { RequiredBytes = 4 << 20 },
            }).ResponseAsync),
        ["GroupControllerGetCapabilities"] = new(
            e => e.PluginCapabilities.Contains(PluginCapability.GroupControllerService),
            (e, _, _) => e.Client.GroupController.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest()).ResponseAsync),
    };

    public static TheoryData<string> RpcNames => new(Rpcs.Keys);

    [Theory]
    [MemberData(nameof(RpcNames))]
    public async Task UnadvertisedRpc_WellFormedRequest_Unimplemented(string rpcName)
    {
        var rpc = Rpcs[rpcName];
        var volume = await endpoint.CreateVolumeAsync("unadvertised");
        string path = endpoint.NewTargetWithParent("unadvertised");

        var status = (await CsiAssert.StatusOf(() => rpc.Call(endpoint, volume.VolumeId, path))).StatusCode;

        if (rpc.Advertised(endpoint))
        {
            Assert.NotEqual(StatusCode.Unimplemented, status);
            return;
        }
        Assert.Equal(StatusCode.Unimplemented, status);
        var after = await endpoint.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.Equal(volume.CapacityBytes, after.Volume.CapacityBytes);
    }
}
