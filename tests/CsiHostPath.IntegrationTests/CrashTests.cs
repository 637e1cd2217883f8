using System.Collections.Concurrent;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// kill -9 in the middle of concurrent create/publish/unpublish/delete bursts. After each restart every
/// acknowledged volume is there with its data, no volume appears that was never asked for, nothing is
/// half-made, and no mount outlives its unpublish.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : DriverTest
{
    private const int Rounds = 6;
    private const int Workers = 6;

    [Fact]
    public async Task KillDuringBursts_Restart_KeepsAcknowledgedVolumesAndLeaksNothing()
    {
        var random = new Random(20261124);
        var state = new ConcurrentDictionary<string, VolumeState>();
        var everRequested = new ConcurrentDictionary<string, byte>();
        int operations = 0;

        for (int round = 0; round < Rounds; round++)
        {
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, Workers)
                .Select(w => Task.Run(() => WorkAsync(round, w, state, everRequested, () => Interlocked.Increment(ref operations), stop.Token)))
                .ToArray();
            // The kill lands at a different point of the burst every round.
            await Task.Delay(random.Next(50, 400));
            await Driver.KillAsync();
            stop.Cancel();
            await Task.WhenAll(workers);
            await Driver.StartAsync();
            await VerifyAsync(state, everRequested);
        }

        await CleanUpEverythingAsync(state);
        Assert.Empty(Mounts.Beneath(Root.Combine("targets")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Driver.DataDir, "volumes")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Driver.DataDir, ".staging")));
        output.WriteLine($"kills={Rounds} operations={operations} volumes={everRequested.Count} losses=0");
    }

    private async Task WorkAsync(
        int round, int worker, ConcurrentDictionary<string, VolumeState> state,
        ConcurrentDictionary<string, byte> everRequested, Func<int> count, CancellationToken stop)
    {
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string name = $"crash-{round}-{worker}-{i}";
            everRequested[name] = 0;
            try
            {
                var volume = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume;
                count();
                var entry = state[name] = new VolumeState(volume.VolumeId, Root.Combine("targets", name));
                await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, entry.Target));
                count();
                await File.WriteAllTextAsync(Path.Combine(entry.Target, "payload"), name, CancellationToken.None);
                entry.DataWritten = true;
                if (i % 2 == 0)
                    continue;
                await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = entry.Target });
                count();
                entry.DeleteSent = true;
                await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
                count();
                entry.Deleted = true;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException)
            {
                // The driver died under this call; what it acknowledged before is what the checks hold it to.
                return;
            }
        }
    }

    private async Task VerifyAsync(ConcurrentDictionary<string, VolumeState> state, ConcurrentDictionary<string, byte> everRequested)
    {
        var listed = new Dictionary<string, Volume>();
        var response = await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        foreach (var entry in response.Entries)
        {
            listed[entry.Volume.VolumeId] = entry.Volume;
            Assert.False(entry.Status.VolumeCondition.Abnormal, entry.Status.VolumeCondition.Message);
        }
        var requestedIds = everRequested.Keys.Select(n => ExpectedVolumeId.For(n)).ToHashSet();
        Assert.All(listed.Keys, id => Assert.Contains(id, requestedIds));
        foreach (var (name, volume) in state)
        {
            if (volume.Deleted)
            {
                Assert.DoesNotContain(volume.VolumeId, listed.Keys);
                continue;
            }
            // A delete the driver died under may or may not have happened; either way is whole.
            if (!listed.ContainsKey(volume.VolumeId) && volume.DeleteSent)
                continue;
            Assert.True(listed.ContainsKey(volume.VolumeId), $"acknowledged volume {name} is missing after the restart");
            if (!volume.DataWritten)
                continue;
            // Published again by a new pod after the crash: the data written before it is there.
            string again = volume.Target + "-again";
            await Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, again));
            Assert.Equal(name, await File.ReadAllTextAsync(Path.Combine(again, "payload")));
            await UnpublishAsKubeletWouldAsync(volume.VolumeId, again);
        }
    }

    /// <summary>
    /// Retries while the target is busy, as kubelet does: other tests in this process fork children (drivers, mkfs),
    /// and a child holds the test's open files, such as the payload it just read, until it execs.
    /// </summary>
    private async Task UnpublishAsKubeletWouldAsync(string volumeId, string target)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && e.Status.Detail.Contains("busy") && attempt < 20)
            {
                await Task.Delay(25 * attempt);
            }
        }
    }

    private async Task CleanUpEverythingAsync(ConcurrentDictionary<string, VolumeState> state)
    {
        var response = await Driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest());
        foreach (var entry in response.Entries)
        {
            string id = entry.Volume.VolumeId;
            foreach (var target in state.Values.Where(v => v.VolumeId == id).Select(v => v.Target))
                await UnpublishAsKubeletWouldAsync(id, target);
            await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        }
    }


    private sealed class VolumeState(string volumeId, string target)
    {
        public string VolumeId { get; } = volumeId;

        public string Target { get; } = target;

        public volatile bool DataWritten;

        public volatile bool DeleteSent;

        public volatile bool Deleted;
    }
}
