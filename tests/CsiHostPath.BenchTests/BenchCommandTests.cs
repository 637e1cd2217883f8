using System.CommandLine;
using System.Text.Json;
using CsiHostPath.Bench.Cli;
using CsiHostPath.Testing;

namespace CsiHostPath.BenchTests;

/// <summary>The bench's command line, run in-process against the real driver over its socket, with a small N.</summary>
public sealed class BenchCommandTests : IAsyncLifetime
{
    private readonly TempRoot _root = new("chb");
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Theory]
    [InlineData("lifecycle", new[] { "CreateVolume", "NodePublishVolume", "NodeUnpublishVolume", "DeleteVolume" })]
    [InlineData("create-delete", new[] { "CreateVolume", "DeleteVolume" })]
    public async Task Run_EachMode_ReportsEveryItemAndNoErrors(string mode, string[] timedRpcs)
    {
        using var report = await RunJsonAsync("--mode", mode, "--count", "5", "--concurrency", "2");

        var root = report.RootElement;
        Assert.Equal(mode, root.GetProperty("mode").GetString());
        Assert.Equal(5, root.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Empty(root.GetProperty("errorsByCode").EnumerateObject());
        Assert.Equal(DriverProcess.NodeId, root.GetProperty("plugin").GetProperty("nodeId").GetString());
        var calls = root.GetProperty("rpcs").EnumerateArray().ToDictionary(r => r.GetProperty("rpc").GetString()!, r => r);
        foreach (var rpc in timedRpcs)
        {
            Assert.Equal(5, calls[rpc].GetProperty("calls").GetInt32());
            Assert.Equal(0, calls[rpc].GetProperty("errors").GetInt32());
        }
        Assert.Empty(Mounts.Beneath(_root.Path));
    }

    [Fact]
    public async Task Run_StatsMode_CountsTheFilesAsDuDoes_AndTimesEveryCall()
    {
        using var report = await RunJsonAsync("--mode", "stats", "--files", "300", "--count", "20", "--concurrency", "2", "--pid", _driver.Pid.ToString());

        var root = report.RootElement;
        Assert.Equal("stats", root.GetProperty("mode").GetString());
        Assert.Equal(20, root.GetProperty("succeeded").GetInt32());
        foreach (var rpc in (string[])["NodeGetVolumeStats", "ControllerGetVolume", "GetCapacity"])
        {
            var timed = Assert.Single(root.GetProperty("rpcs").EnumerateArray(), r => r.GetProperty("rpc").GetString() == rpc);
            Assert.Equal(20, timed.GetProperty("calls").GetInt32());
            Assert.Equal(0, timed.GetProperty("errors").GetInt32());
        }
        var usage = root.GetProperty("usage");
        Assert.Equal(300, usage.GetProperty("files").GetInt32());
        Assert.Equal(usage.GetProperty("duBytes").GetInt64(), usage.GetProperty("usedBytes").GetInt64());
        Assert.Equal(usage.GetProperty("duInodes").GetInt64(), usage.GetProperty("usedInodes").GetInt64());
        Assert.Empty(Mounts.Beneath(_root.Path));
    }

    [Fact]
    public async Task Run_ScaleMode_TimesEachCallPerItem_WithAnImageVolumeAmongThePrefilled()
    {
        using var report = await RunJsonAsync("--mode", "scale", "--prefill", "3", "--prefill-images", "1", "--count", "4", "--concurrency", "2");

        var root = report.RootElement;
        Assert.Equal("scale", root.GetProperty("mode").GetString());
        Assert.Equal(4, root.GetProperty("succeeded").GetInt32());
        Assert.Empty(root.GetProperty("errorsByCode").EnumerateObject());
        var calls = root.GetProperty("rpcs").EnumerateArray().ToDictionary(r => r.GetProperty("rpc").GetString()!, r => r.GetProperty("calls").GetInt32());
        foreach (var rpc in (string[])["CreateVolume", "ControllerGetVolume", "GetCapacity", "NodeGetVolumeStats", "NodeGetVolumeStats (image)", "DeleteVolume"])
            Assert.Equal(4, calls[rpc]);
        Assert.Equal(3, root.GetProperty("prefill").GetProperty("listEntries").GetInt32());
        // The prefilled image volume keeps its own filesystem mounted in the data dir; no pod target is left.
        Assert.DoesNotContain(Mounts.Beneath(_root.Path), m => !m.StartsWith(_driver.DataDir, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_WithPrefillAndPid_ListsPrefilledVolumesAndReadsDriverMemory()
    {
        using var report = await RunJsonAsync("--count", "2", "--concurrency", "2", "--prefill", "5", "--pid", _driver.Pid.ToString());

        var prefill = report.RootElement.GetProperty("prefill");
        Assert.Equal(0, prefill.GetProperty("failed").GetInt32());
        Assert.Equal(5, prefill.GetProperty("listEntries").GetInt32());
        Assert.True(report.RootElement.GetProperty("memory").GetProperty("rssAfterKiB").GetInt64() > 0);
    }

    [Fact]
    public async Task Startup_RealDriver_TimesEveryRun()
    {
        await _driver.StopAsync();
        string socket = _root.Combine("startup.sock");

        var (exitCode, output, error) = await InvokeAsync("startup", "--driver", DriverProcess.ExecutablePath, "--socket", socket, "--runs", "2", "--json",
            "--", "--endpoint", socket, "--data-dir", _driver.DataDir, "--node-id", DriverProcess.NodeId);

        Assert.True(exitCode == 0, error);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(2, report.RootElement.GetProperty("runsMs").GetArrayLength());
        Assert.True(report.RootElement.GetProperty("answeredMedianMs").GetDouble() >= report.RootElement.GetProperty("medianMs").GetDouble());
    }

    private async Task<JsonDocument> RunJsonAsync(params string[] args)
    {
        var (exitCode, output, error) = await InvokeAsync(["--endpoint", _driver.SocketPath, "--work-dir", _root.Path, "--json", .. args]);
        Assert.True(exitCode == 0, $"exit code {exitCode}: {error}\n{output}\ndriver:\n{_driver.Output}");
        return JsonDocument.Parse(output);
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await BenchCommand.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
