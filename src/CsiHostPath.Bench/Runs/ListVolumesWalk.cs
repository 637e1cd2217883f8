using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Client;
using CsiHostPath.Bench.Stats;

namespace CsiHostPath.Bench.Runs;

/// <summary>Every page of ListVolumes, following next_token, as external-provisioner's and external-health-monitor's resyncs read them.</summary>
public static class ListVolumesWalk
{
    public const int PageSize = 100;

    public static async Task<(int Pages, int Entries, TimeSpan Elapsed)> RunAsync(CsiClient connection, RpcStats stats)
    {
        int pages = 0, entries = 0;
        string token = "";
        var elapsed = Stopwatch.StartNew();
        do
        {
            var page = await stats.TimeAsync("ListVolumes", () => connection.Controller.ListVolumesAsync(
                new ListVolumesRequest { MaxEntries = PageSize, StartingToken = token }));
            pages++;
            entries += page.Entries.Count;
            token = page.NextToken;
        }
        while (token.Length > 0);
        return (pages, entries, elapsed.Elapsed);
    }
}
