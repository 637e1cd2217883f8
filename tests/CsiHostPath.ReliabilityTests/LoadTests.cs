using System.Collections.Concurrent;
using System.Diagnostics;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// CHP_LOAD_VOLUMES volumes on one node, CHP_LOAD_CLIENTS clients (each its own connection) for CHP_LOAD_SECONDS:
/// every call succeeds except the spec's ABORTED when two clients race on one volume, and the driver's resident
/// memory in the last third of the run is no higher than in the first.
/// </summary>
public sealed class LoadTests(LoadTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<LoadTests.Fixture>
{
    private const int HotVolumes = 4;
    private readonly ConcurrentDictionary<StatusCode, long> _codes = new();
    private readonly ConcurrentQueue<string> _errors = new();

    [Fact]
    public async Task ManyVolumesManyClients_ForABoundedTime_OnlyAbortedErrorsAndFlatMemory()
    {
        int volumes = Scale.LoadVolumes, clients = Scale.LoadClients;
        var duration = Scale.LoadDuration;
        var connections = Enumerable.Range(0, clients).Select(_ => new CsiHostPath.Client.CsiClient(fixture.Driver.SocketPath)).ToArray();
        try
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                for (int i = c; i < volumes; i += clients)
                    await CallAsync(() => connections[c].Controller.CreateVolumeAsync(Requests.Create(VolumeName(i))).ResponseAsync);
            })));
            for (int h = 0; h < HotVolumes; h++)
                await CallAsync(() => connections[0].Controller.CreateVolumeAsync(Requests.Create(HotName(h))).ResponseAsync);
            var created = clock.Elapsed;
            AssertOnlyAborted("creating the volumes");

            using var stop = new CancellationTokenSource(duration);
            var rss = new List<long>();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    rss.Add(ResidentBytes(fixture.Driver.Pid));
                    await Task.Delay(250, CancellationToken.None);
                }
            });
            long operations = (await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => TrafficAsync(connections[c], c, clients, volumes, stop.Token))))).Sum();
            await sampler;
            foreach (var c in Enumerable.Range(0, clients))
                await UntilNotAbortedAsync(() => connections[c].Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = ExpectedVolumeId.For(HotName(c % HotVolumes)), TargetPath = HotTarget(c) }).ResponseAsync);

            int third = rss.Count / 3;
            long first = Median(rss.Take(third)), last = Median(rss.Skip(rss.Count - third));
            Results.Report(output, "load", $"volumes={volumes} clients={clients} create_seconds={created.TotalSeconds:F1} traffic_seconds={duration.TotalSeconds} operations={operations} " +
                $"aborted={_codes.GetValueOrDefault(StatusCode.Aborted)} other_errors={_errors.Count} rss_first_third_mb={first >> 20} rss_last_third_mb={last >> 20}");
            AssertOnlyAborted("the traffic");
            Assert.True(third >= 3, $"only {rss.Count} memory samples");
            Assert.True(last <= first + (first / 4) + (16 << 20), $"resident memory grew from {first >> 20} MB to {last >> 20} MB over the run");
        }
        finally
        {
            foreach (var connection in connections)
                connection.Dispose();
        }
    }

    /// <summary>
    /// One client's mix: reads of any even-numbered volume (those are never deleted), a publish/stats/unpublish of
    /// one of its own, a delete/re-create of one of its own odd-numbered ones, publish/unpublish of a shared hot volume.
    /// </summary>
    private async Task<long> TrafficAsync(CsiHostPath.Client.CsiClient client, int c, int clients, int volumes, CancellationToken stop)
    {
        var random = new Random(c);
        long operations = 0;
        string hot = ExpectedVolumeId.For(HotName(c % HotVolumes));
        string target = fixture.Target($"own-{c}");
        while (!stop.IsCancellationRequested)
        {
            int own = c + clients * random.Next(Math.Max(1, (volumes - c + clients - 1) / clients));
            string ownId = ExpectedVolumeId.For(VolumeName(own));
            operations++;
            switch (random.Next(6))
            {
                case 0:
                    await CallAsync(() => client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = ExpectedVolumeId.For(VolumeName(random.Next(volumes) & ~1)) }).ResponseAsync);
                    break;
                case 1:
                    await CallAsync(() => client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 500, StartingToken = ExpectedVolumeId.For(VolumeName(random.Next(volumes))) }).ResponseAsync);
                    break;
                case 2:
                    await CallAsync(() => client.Node.NodePublishVolumeAsync(Requests.Publish(ownId, target)).ResponseAsync);
                    await CallAsync(() => client.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = ownId, VolumePath = target }).ResponseAsync);
                    await CallAsync(() => client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = ownId, TargetPath = target }).ResponseAsync);
                    operations += 2;
                    break;
                case 3 when own % 2 == 1:
                    await CallAsync(() => client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = ownId }).ResponseAsync);
                    await CallAsync(() => client.Controller.CreateVolumeAsync(Requests.Create(VolumeName(own))).ResponseAsync);
                    operations++;
                    break;
                case 3 or 4:
                    await CallAsync(() => client.Node.NodePublishVolumeAsync(Requests.Publish(hot, HotTarget(c))).ResponseAsync);
                    break;
                default:
                    await CallAsync(() => client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = hot, TargetPath = HotTarget(c) }).ResponseAsync);
                    break;
            }
        }
        return operations;
    }

    private async Task CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            _codes.AddOrUpdate(StatusCode.OK, 1, (_, n) => n + 1);
        }
        catch (RpcException e)
        {
            _codes.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
            if (e.StatusCode != StatusCode.Aborted)
                _errors.Enqueue(e.Status.ToString());
        }
    }

    private static async Task UntilNotAbortedAsync<T>(Func<Task<T>> call)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Aborted && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Yield();
            }
        }
    }

    private void AssertOnlyAborted(string during) =>
        Assert.True(_errors.IsEmpty, $"{_errors.Count} errors other than ABORTED during {during}, e.g.:\n{string.Join('\n', _errors.Take(10))}");

    private string HotTarget(int client) => fixture.Target($"hot-{client}");

    private static string VolumeName(int i) => $"load-{i}";

    private static string HotName(int i) => $"hot-{i}";


    private static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }

    /// <summary>The driver, and at the end every volume deleted again so the data dir is empty.</summary>
    public sealed class Fixture : DriverFixture
    {
        public override async Task DisposeAsync()
        {
            string? token = null;
            do
            {
                var page = await Client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 1000 });
                foreach (var entry in page.Entries)
                    await DeleteAsync(entry.Volume.VolumeId);
                token = page.NextToken;
            }
            while (token.Length > 0);
            await base.DisposeAsync();
        }
    }
}
