using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// kill -9 at a seeded moment of concurrent create/publish/write/unpublish/delete traffic, CHP_SOAK_KILLS times, the
/// driver restarted each time in a fresh mount namespace as after a container restart (<see cref="CrashWorkload"/>
/// says what is checked). With images, two workers' first volume of every round and every third after it is an ext4
/// image on a loop device, so the check that every image volume has exactly one loop device after a restart has
/// something to count. CHP_FUZZ_SEED replays a run.
/// </summary>
public sealed class CrashSoakTests(ITestOutputHelper output) : DriverTest
{
    private const int Workers = 6;
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillNineDuringTraffic_RestartEachTime_LosesNothingAndLeaksNothing(bool images)
    {
        int kills = Scale.SoakKills;
        int seed = Scale.FuzzSeed;
        output.WriteLine($"seed={seed} (CHP_FUZZ_SEED={seed} replays it)");
        var workload = new CrashWorkload(Driver, seed, Workers, images ? WithImages : null);

        for (int round = 0; round < kills; round++)
        {
            await workload.RunRoundAsync();
            await workload.RemoveRoundAsync(round - 1);
        }
        workload.AssertNoFailures();
        await workload.RemoveAllAsync();

        Assert.True(workload.Operations >= kills * workload.MinimumPerRound);
        Results.Report(output, "crash-soak", $"images={images} kills={kills} operations={workload.Operations} volumes={workload.VolumesRequested} losses=0 seed={seed}");
    }

    private static CreateVolumeRequest WithImages(string name, int worker, int i) =>
        (worker + i) % 3 == 0 ? Requests.Create(name, 16 << 20, new Dictionary<string, string> { ["backing"] = "image" }) : Requests.Create(name);
}
