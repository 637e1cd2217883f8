using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace CsiHostPath.ConformanceTests.Controller;

/// <summary>
/// Spec "ListVolumes": every volume, paged by max_entries/next_token, ABORTED on a token it did not issue. Other
/// tests may create volumes on the same driver meanwhile, so assertions are about this test's own volumes.
/// </summary>
public sealed class ListVolumesTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    private Csi.V1.Controller.ControllerClient Controller => endpoint.Client.Controller;

    [Fact]
    public async Task ListVolumes_NoPaging_ContainsCreatedVolumesWithCapacity()
    {
        var created = await CreateManyAsync("all", 3);

        var response = await Controller.ListVolumesAsync(new ListVolumesRequest());

        foreach (var volume in created)
        {
            var entry = Assert.Single(response.Entries, e => e.Volume.VolumeId == volume.VolumeId);
            Assert.Equal(volume.CapacityBytes, entry.Volume.CapacityBytes);
        }
        Assert.Empty(response.NextToken);
    }

    [Fact]
    public async Task ListVolumes_MaxEntries_PagesNeverExceedItAndCoverEveryVolumeOnce()
    {
        var created = await CreateManyAsync("paged", 5);

        var seen = new List<string>();
        string token = "";
        do
        {
            var page = await Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 2, StartingToken = token });
            Assert.InRange(page.Entries.Count, 0, 2);
            seen.AddRange(page.Entries.Select(e => e.Volume.VolumeId));
            token = page.NextToken;
        }
        while (token.Length > 0);

        foreach (var volume in created)
            Assert.Single(seen, id => id == volume.VolumeId);
    }

    [Fact]
    public async Task ListVolumes_MaxEntriesBelowTotal_SetsNextToken()
    {
        await CreateManyAsync("token", 2);

        var page = await Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 1 });

        Assert.Single(page.Entries);
        Assert.NotEmpty(page.NextToken);
    }

    [Fact]
    public async Task ListVolumes_LastVolumeOfPageDeleted_TokenStillContinues()
    {
        var created = await CreateManyAsync("survive", 4);
        var mine = created.Select(v => v.VolumeId).ToHashSet();

        // Walk single-entry pages until one ends with a volume of this test that is not the last of the list.
        var seen = new List<string>();
        string token = "";
        string? deleted = null;
        while (deleted is null)
        {
            var page = await Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 1, StartingToken = token });
            Assert.NotEmpty(page.NextToken);
            token = page.NextToken;
            string id = page.Entries.Single().Volume.VolumeId;
            seen.Add(id);
            if (mine.Contains(id))
                deleted = id;
        }
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = deleted });

        while (token.Length > 0)
        {
            var page = await Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 1, StartingToken = token });
            seen.AddRange(page.Entries.Select(e => e.Volume.VolumeId));
            token = page.NextToken;
        }
        // The spec lets a concurrently changed list show duplicates or omissions; a token built from the last id
        // returned should do neither, and it is what kubelet's and external-provisioner's listers rely on.
        foreach (var id in mine)
            Assert.Single(seen, s => s == id);
    }

    [Fact]
    public async Task ListVolumes_TokenNotIssued_Aborted()
    {
        await CsiAssert.FailsWith(StatusCode.Aborted,
            () => Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = "this-token-was-never-issued" }));
    }

    [Fact]
    public async Task ListVolumes_NegativeMaxEntries_InvalidArgumentNamingField()
    {
        await CsiAssert.FailsWith(StatusCode.InvalidArgument,
            () => Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = -1 }), "max_entries");
    }

    [Fact]
    public async Task ListVolumes_HealthyVolume_EntryStatusNotAbnormal()
    {
        var volume = await endpoint.CreateVolumeAsync("list-condition");

        var response = await Controller.ListVolumesAsync(new ListVolumesRequest());

        var entry = Assert.Single(response.Entries, e => e.Volume.VolumeId == volume.VolumeId);
        if (endpoint.ControllerCapabilities.Contains(ControllerCapability.VolumeCondition))
            Assert.False(Assert.IsType<VolumeCondition>(entry.Status?.VolumeCondition).Abnormal);
        else
            Assert.Null(entry.Status?.VolumeCondition);
    }

    private async Task<IReadOnlyList<Volume>> CreateManyAsync(string label, int count)
    {
        var volumes = new List<Volume>();
        for (int i = 0; i < count; i++)
            volumes.Add(await endpoint.CreateVolumeAsync($"{label}{i}"));
        return volumes;
    }
}
