using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// A response larger than HTTP/2's default windows (65,535 bytes) must wait for the client's WINDOW_UPDATEs and still
/// arrive whole: Kestrel against .NET's gRPC client, over the real socket.
/// </summary>
public sealed class LargeResponseTests : DriverTest
{
    private const int VolumeCount = 1_500;

    [Fact]
    public async Task ListVolumes_WithoutMaxEntries_ReturnsEveryVolumeInOneResponseLargerThanTheWindow()
    {
        var created = new string[VolumeCount];
        await Parallel.ForAsync(0, VolumeCount, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            created[i] = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create($"pvc-large-{i:D4}"))).Volume.VolumeId);

        var response = await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());

        Assert.True(response.CalculateSize() > 2 * 65_535, $"the response is only {response.CalculateSize()} bytes");
        Assert.Equal(VolumeCount, response.Entries.Count);
        Assert.Equal(created.Order(StringComparer.Ordinal), response.Entries.Select(e => e.Volume.VolumeId).Order(StringComparer.Ordinal));
    }
}
