using Csi.V1;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.DeployTests;

/// <summary>
/// A PVC grown on a 3-node cluster. external-resizer has no per-node mode, so the DaemonSet runs one on every node and
/// each asks its own node's driver to grow every PVC's volume. What each resizer does with the answer
/// (external-resizer v2.2.1, pkg/controller/expand_and_recover.go, callResizeOnPlugin; pkg/util/util.go, IsFinalError
/// and IsInfeasibleError): a final code stops its retries, and an infeasible one (INVALID_ARGUMENT, OUT_OF_RANGE,
/// NOT_FOUND) also patches the PVC's allocatedResourceStatuses to ControllerResizeInfeasible with no resourceVersion
/// check, over whatever the owning node's resizer recorded. So only the node that holds the volume may answer with a
/// final code; every other node must answer with one the resizer retries without touching the PVC.
/// </summary>
public sealed class ResizeAcrossNodesTests : IAsyncLifetime
{
    private static readonly string[] NodeNames = ["kind-control-plane", "kind-worker", "kind-worker2"];

    // IsFinalError's exceptions: the resizer retries these with back-off and patches nothing.
    private static readonly StatusCode[] RetriedWithoutPatch =
        [StatusCode.Cancelled, StatusCode.DeadlineExceeded, StatusCode.Unavailable, StatusCode.ResourceExhausted, StatusCode.Aborted];

    private readonly List<TempRoot> _roots = [];
    private readonly Dictionary<string, DriverProcess> _drivers = [];

    public async Task InitializeAsync()
    {
        var install = await Manifests.RenderAsync("base");
        foreach (string nodeName in NodeNames)
        {
            var root = new TempRoot("chr");
            _roots.Add(root);
            _drivers[nodeName] = await new SimulatedNode(root, nodeName, install).StartDriverAsync();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var driver in _drivers.Values)
            await driver.DisposeAsync();
        foreach (var root in _roots)
            root.Dispose();
    }

    [Fact]
    public async Task ControllerExpandVolume_OnEveryNode_OnlyTheOwnerGrowsAndNoOtherAnswerIsFinal()
    {
        const string owner = "kind-worker2";
        string volumeId = await CreateOnAsync(owner, "pvc-" + Guid.NewGuid());

        foreach (string node in NodeNames.Where(n => n != owner))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => ExpandOnAsync(node, volumeId, 96L << 20));
            Assert.Contains(refused.StatusCode, RetriedWithoutPatch);
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            Assert.Contains("lives on another node", refused.Status.Detail, StringComparison.Ordinal);
        }
        var grown = await ExpandOnAsync(owner, volumeId, 96L << 20);

        Assert.Equal(96L << 20, grown.CapacityBytes);
        Assert.False(grown.NodeExpansionRequired);
        var listed = await _drivers[owner].Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volumeId });
        Assert.Equal(96L << 20, listed.Volume.CapacityBytes);
    }

    [Fact]
    public async Task ControllerExpandVolume_VolumeDeletedOnItsNode_OwnerSaysNotFoundOthersStillRetry()
    {
        const string owner = "kind-worker";
        string volumeId = await CreateOnAsync(owner, "pvc-" + Guid.NewGuid());
        await _drivers[owner].Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });

        // The volume exists nowhere: its own node says so, the final answer that ends the resize as infeasible.
        var gone = await Assert.ThrowsAsync<RpcException>(() => ExpandOnAsync(owner, volumeId, 96L << 20));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        foreach (string node in NodeNames.Where(n => n != owner))
        {
            var elsewhere = await Assert.ThrowsAsync<RpcException>(() => ExpandOnAsync(node, volumeId, 96L << 20));
            Assert.Equal(StatusCode.Unavailable, elsewhere.StatusCode);
        }
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("fake-volume-id")]
    public async Task ControllerExpandVolume_IdNamingNoNode_NotFoundEverywhere(string volumeId)
    {
        // An id issued before ids named their node, or one this driver never issued (csi-sanity's made-up ids): no node
        // can tell whose it is, so each answers as the spec says for a volume it does not have.
        foreach (string node in NodeNames)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => ExpandOnAsync(node, volumeId, 96L << 20));
            Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        }
    }

    /// <summary>external-provisioner on <paramref name="node"/> (--node-deployment, --strict-topology): CreateVolume for its own node.</summary>
    private async Task<string> CreateOnAsync(string node, string pvName)
    {
        var request = Requests.Create(pvName, 64L << 20);
        var topology = new Topology { Segments = { [DriverProcess.TopologyKey] = node } };
        request.AccessibilityRequirements = new TopologyRequirement { Requisite = { topology }, Preferred = { topology } };
        return (await _drivers[node].Client.Controller.CreateVolumeAsync(request)).Volume.VolumeId;
    }

    /// <summary>
    /// What csi-resizer sends (pkg/resizer/csi_resizer.go, Resize and GetVolumeCapabilities; pkg/csi/client.go, Expand): the
    /// PV's volume handle, the new request as required_bytes with no limit, and a mount capability with the PV's fsType
    /// and mount options and ReadWriteOnce as SINGLE_NODE_MULTI_WRITER (the driver advertises it); no secrets.
    /// </summary>
    private async Task<ControllerExpandVolumeResponse> ExpandOnAsync(string node, string volumeId, long requiredBytes) =>
        await _drivers[node].Client.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
        {
            VolumeId = volumeId,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes },
            VolumeCapability = Requests.MountCapability(),
        });
}
