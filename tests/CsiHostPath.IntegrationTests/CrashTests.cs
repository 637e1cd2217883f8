using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.IntegrationTests;

/// <summary>
/// kill -9 in the middle of concurrent create/publish/unpublish/delete bursts, the driver restarted in a fresh mount
/// namespace each time (<see cref="CrashWorkload"/> says what is checked). CHP_CRASH_SEED replays a run.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : DriverTest
{
    private const int Rounds = 4;
    private const int Workers = 6;

    [Fact]
    public async Task KillDuringBursts_Restart_KeepsAcknowledgedVolumesAndLeaksNothing()
    {
        int seed = Environment.GetEnvironmentVariable("CHP_CRASH_SEED") is { Length: > 0 } configured
            ? int.Parse(configured, System.Globalization.CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed={seed} (CHP_CRASH_SEED={seed} replays it)");
        var workload = new CrashWorkload(Driver, seed, Workers);

        for (int round = 0; round < Rounds; round++)
            await workload.RunRoundAsync();
        workload.AssertNoFailures();
        await workload.RemoveAllAsync();

        Assert.True(workload.Operations >= Rounds * workload.MinimumPerRound);
        output.WriteLine($"seed={seed} kills={Rounds} operations={workload.Operations} volumes={workload.VolumesRequested} losses=0");
    }

    /// <summary>
    /// A publication is recorded before its mount is made (README.md, "what a crash leaves"): the driver's mount system
    /// call is held after it has mounted (strace), the test sees the mount appear at the target and kills the driver
    /// there, so the crash lands between the mount and the answer, not wherever a timer falls. The restarted driver
    /// still knows the target: it refuses to delete the published volume and unmounts it on NodeUnpublishVolume.
    /// </summary>
    [Fact]
    public async Task KillRightAfterPublishMounts_Restart_KnowsThePublication()
    {
        string volumeId = (await Driver.Client.Controller.CreateVolumeAsync(Requests.Create("pvc-killed-at-mount"))).Volume.VolumeId;
        string target = Path.Combine(Driver.PodsDir, "killed-at-mount");

        using (SyscallFault.DelayReturn(Driver.Pid, "mount", TimeSpan.FromSeconds(3)))
        {
            var publish = Driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target)).ResponseAsync;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // A traced process dies of SIGKILL only once strace lets it go: the hold is short, and the kill lands within it.
            while (!Mounts.IsMountPoint(target) && !publish.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30))
                await Task.Delay(5);
            Assert.True(Mounts.IsMountPoint(target), "the held mount never appeared at the target");
            await Driver.KillAsync();
            var died = await Assert.ThrowsAsync<RpcException>(async () => await publish);
            Assert.True(CrashWorkload.DriverDied(died), $"NodePublishVolume answered {died.Status} instead of dying");
        }
        await Driver.StartAsync();

        Assert.True(Mounts.IsMountPoint(target), "the mount made before the kill is gone");
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId }));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(target, refused.Status.Detail);
        await Driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });
        Assert.False(Mounts.IsMountPoint(target));
        await Driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });
    }
}
