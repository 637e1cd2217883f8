using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>
/// Spec "CreateSnapshot", "DeleteSnapshot", "ListSnapshots", "GetSnapshot" and CreateVolume's snapshot source: the
/// error tables, idempotency and paging. A driver that does not advertise CREATE_DELETE_SNAPSHOT is covered by
/// <see cref="UnadvertisedRpcTests"/>; here each test first requires the capability (and fails without it on this
/// driver, which advertises it).
/// </summary>
public sealed class SnapshotTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";

    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    private void RequireSnapshots()
    {
        if (!CsiEndpoint.IsExternal)
            Assert.Contains(ControllerCapability.CreateDeleteSnapshot, endpoint.ControllerCapabilities);
    }

    private async Task<(Volume Volume, Snapshot Snapshot)> SnapshotAsync(string label)
    {
        var volume = await endpoint.CreateVolumeAsync(label);
        var snapshot = (await Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = VolumeNames.New(label), SourceVolumeId = volume.VolumeId })).Snapshot;
        return (volume, snapshot);
    }

    [Fact]
    public async Task CreateSnapshot_ReturnsReadySnapshotOfTheVolume_AndIsIdempotentByName()
    {
        RequireSnapshots();
        var volume = await endpoint.CreateVolumeAsync("snap-source");
        var request = new CreateSnapshotRequest { Name = VolumeNames.New("snap"), SourceVolumeId = volume.VolumeId };

        var first = (await Controller.CreateSnapshotAsync(request)).Snapshot;
        var again = (await Controller.CreateSnapshotAsync(request)).Snapshot;

        Assert.True(first.ReadyToUse);
        Assert.Equal(volume.VolumeId, first.SourceVolumeId);
        Assert.NotNull(first.CreationTime);
        Assert.Equal(first, again);
    }

    [Fact]
    public async Task CreateSnapshot_SameNameOtherVolume_AlreadyExists()
    {
        RequireSnapshots();
        var volume = await endpoint.CreateVolumeAsync("snap-name");
        var other = await endpoint.CreateVolumeAsync("snap-other");
        var request = new CreateSnapshotRequest { Name = VolumeNames.New("snap-dup"), SourceVolumeId = volume.VolumeId };
        await Controller.CreateSnapshotAsync(request);

        request.SourceVolumeId = other.VolumeId;

        await CsiAssert.FailsWith(StatusCode.AlreadyExists, () => Controller.CreateSnapshotAsync(request));
    }

    [Fact]
    public async Task CreateSnapshot_MissingFieldsOrSource_InvalidArgumentOrNotFound()
    {
        RequireSnapshots();
        var volume = await endpoint.CreateVolumeAsync("snap-fields");

        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateSnapshotAsync(new CreateSnapshotRequest { SourceVolumeId = volume.VolumeId }), "name");
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = VolumeNames.New("s") }), "source_volume_id");
        await CsiAssert.FailsWith(StatusCode.NotFound, () => Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = VolumeNames.New("s"), SourceVolumeId = UnknownId }));
    }

    [Fact]
    public async Task DeleteSnapshot_IsIdempotent_AndTheSnapshotIsGone()
    {
        RequireSnapshots();
        var (_, snapshot) = await SnapshotAsync("snap-delete");

        await Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        await Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        await Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = UnknownId });

        Assert.Empty((await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId })).Entries);
        await CsiAssert.FailsWith(StatusCode.NotFound, () => Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot.SnapshotId }));
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest()), "snapshot_id");
    }

    [Fact]
    public async Task DeleteVolume_WithSnapshots_Succeeds_AndTheSnapshotOutlivesIt()
    {
        RequireSnapshots();
        var (volume, snapshot) = await SnapshotAsync("snap-outlive");

        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });

        var fetched = (await Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot.SnapshotId })).Snapshot;
        Assert.Equal(volume.VolumeId, fetched.SourceVolumeId);
        var request = endpoint.Requests.Create(VolumeNames.New("snap-restore"));
        request.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId } };
        var restored = (await Controller.CreateVolumeAsync(request)).Volume;
        Assert.Equal(snapshot.SnapshotId, restored.ContentSource.Snapshot.SnapshotId);
    }

    [Fact]
    public async Task CreateVolume_MissingSourceSnapshot_NotFound()
    {
        RequireSnapshots();
        var request = endpoint.Requests.Create(VolumeNames.New("restore-missing"));
        request.VolumeContentSource = new VolumeContentSource { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = "non-existing-snapshot-id" } };

        await CsiAssert.FailsWith(StatusCode.NotFound, () => Controller.CreateVolumeAsync(request));
    }

    [Fact]
    public async Task ListSnapshots_FiltersBySnapshotAndBySourceVolume()
    {
        RequireSnapshots();
        var (volume, first) = await SnapshotAsync("list-filter");
        var second = (await Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = VolumeNames.New("list-filter-2"), SourceVolumeId = volume.VolumeId })).Snapshot;
        await SnapshotAsync("list-filter-other");

        var byVolume = await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = volume.VolumeId });
        var byId = await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = second.SnapshotId });
        var byUnknown = await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = UnknownId });

        Assert.Equal(new[] { first.SnapshotId, second.SnapshotId }.Order(), byVolume.Entries.Select(e => e.Snapshot.SnapshotId).Order());
        Assert.Equal(second.SnapshotId, Assert.Single(byId.Entries).Snapshot.SnapshotId);
        Assert.Empty(byUnknown.Entries);
    }

    [Fact]
    public async Task ListSnapshots_MaxEntries_PagesCoverEverySnapshotOnce_AndAForeignTokenIsAborted()
    {
        RequireSnapshots();
        var volume = await endpoint.CreateVolumeAsync("list-paged");
        var created = new List<string>();
        for (int i = 0; i < 5; i++)
            created.Add((await Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = VolumeNames.New("paged"), SourceVolumeId = volume.VolumeId })).Snapshot.SnapshotId);

        var seen = new List<string>();
        string token = "";
        do
        {
            var page = await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = 2, StartingToken = token, SourceVolumeId = volume.VolumeId });
            Assert.InRange(page.Entries.Count, 0, 2);
            seen.AddRange(page.Entries.Select(e => e.Snapshot.SnapshotId));
            token = page.NextToken;
        }
        while (token.Length > 0);

        Assert.Equal(created.Order(), seen.Order());
        await CsiAssert.FailsWith(StatusCode.Aborted, () => Controller.ListSnapshotsAsync(new ListSnapshotsRequest { StartingToken = "not-a-token-of-ours" }));
        await CsiAssert.FailsWith(StatusCode.InvalidArgument, () => Controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = -1 }), "max_entries");
    }
}
