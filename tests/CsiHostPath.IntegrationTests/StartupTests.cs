using Csi.V1;
using CsiHostPath.Client;
using CsiHostPath.Testing;

namespace CsiHostPath.IntegrationTests;

/// <summary>What a user sees when the driver cannot or must not start: each refusal names its flag or cause, with one exit code per kind.</summary>
public sealed class StartupTests : IDisposable
{
    // The driver's exit codes: 2 means "fix the command line", 1 means "the node or another driver is in the way".
    private const int UsageError = 2;
    private const int StartFailed = 1;

    private readonly TempRoot _root = new();

    private string[] Args(string name, params string[] extra) =>
        ["--endpoint", _root.Combine(name + ".sock"), "--data-dir", _root.Combine("data"), "--node-id", DriverProcess.NodeId, .. extra];

    [Fact]
    public async Task DataDirIsAFile_IsAUsageError_NamingTheFlag()
    {
        string file = _root.Combine("not-a-dir");
        await File.WriteAllTextAsync(file, "x");

        var (exitCode, output) = await DriverRun.RunToExitAsync(["--endpoint", _root.Combine("a.sock"), "--data-dir", file]);

        Assert.Equal(UsageError, exitCode);
        Assert.Contains($"--data-dir: {file} is a file, not a directory", output);
    }

    [Theory]
    [InlineData("--max-volumes-per-node", "many")]
    [InlineData("--lock-timeout", "5x")]
    [InlineData("--log-level", "Loud")]
    public async Task MalformedValue_IsAUsageError_NamingTheFlag(string flag, string value)
    {
        var (exitCode, output) = await DriverRun.RunToExitAsync(Args("a", flag, value));

        Assert.Equal(UsageError, exitCode);
        Assert.Contains(flag, output);
        Assert.Contains(value, output);
    }

    [Fact]
    public async Task SocketDirectoryCannotBeMade_IsAStartFailure_NamingTheFlag()
    {
        var (exitCode, output) = await DriverRun.RunToExitAsync(
            ["--endpoint", "/proc/csi-hostpath-nope/csi.sock", "--data-dir", _root.Combine("data"), "--node-id", "n1"]);

        Assert.Equal(StartFailed, exitCode);
        Assert.Contains("--endpoint: ", output);
        Assert.Contains("/proc/csi-hostpath-nope", output);
    }

    [Fact]
    public async Task WithoutCapSysAdmin_RefusesToStart_NamingTheCapability()
    {
        // setpriv drops CAP_SYS_ADMIN from the bounding and inheritable sets, so even root's exec gets no such capability:
        // what a container without `privileged: true` gets.
        var (exitCode, output) = await DriverRun.RunToExitAsync(
            Args("a"), "setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "--");

        Assert.Equal(StartFailed, exitCode);
        Assert.Contains("CAP_SYS_ADMIN", output);
        Assert.False(File.Exists(_root.Combine("a.sock")), "a driver that cannot mount must not serve");
    }

    [Fact]
    public async Task SecondDriverOnTheSameDataDir_GivesUpAfterLockTimeout_NamingTheHolder()
    {
        await using var first = DriverRun.Start(Args("first"));
        await WaitUntilServingAsync(_root.Combine("first.sock"));

        var (exitCode, output) = await DriverRun.RunToExitAsync(Args("second", "--lock-timeout", "300ms"));

        Assert.Equal(StartFailed, exitCode);
        Assert.Contains($"PID {first.Pid}", output);
        Assert.Contains("--lock-timeout", output);
        Assert.False(File.Exists(_root.Combine("second.sock")), "the second driver must not serve the first one's volumes");
    }

    [Fact]
    public async Task SecondDriverOnTheSameDataDir_StartsOnceTheFirstIsKilled()
    {
        var first = DriverRun.Start(Args("first"));
        await WaitUntilServingAsync(_root.Combine("first.sock"));
        string volumeId;
        using (var client = new CsiClient(_root.Combine("first.sock")))
            volumeId = (await client.Controller.CreateVolumeAsync(Requests.Create("pvc-kept"))).Volume.VolumeId;

        await using var second = DriverRun.Start(Args("second", "--lock-timeout", "60s"));
        await second.WaitForOutputAsync($"locked by another driver, PID {first.Pid}");
        Assert.False(File.Exists(_root.Combine("second.sock")));

        await first.DisposeAsync(); // kill -9: the kernel releases the flock with the process
        await WaitUntilServingAsync(_root.Combine("second.sock"));
        using var secondClient = new CsiClient(_root.Combine("second.sock"));
        var listed = await secondClient.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.Equal([volumeId], listed.Entries.Select(e => e.Volume.VolumeId));
    }

    private static async Task WaitUntilServingAsync(string socket)
    {
        using var client = new CsiClient(socket);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest(), deadline: DateTime.UtcNow + TimeSpan.FromSeconds(5));
                return;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    public void Dispose() => _root.Dispose();
}
