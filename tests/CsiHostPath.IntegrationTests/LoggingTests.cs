using System.Text.Json;
using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>The driver's log as a log collector reads it: with --log-format json, one JSON object per line with the call's fields as keys.</summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private readonly TempRoot _root = new();
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartAsync(_root, "--log-format", "json");

    [Fact]
    public async Task JsonFormat_EveryLineIsAnObject_AndAnExpectedErrorIsOneLineWithoutAStackTrace()
    {
        const string missing = "0123456789abcdef0123456789abcdef";
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = missing }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        await _driver.StopAsync();

        var lines = _driver.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.All(entries, e =>
        {
            Assert.True(e.TryGetProperty("Timestamp", out _), e.ToString());
            Assert.True(e.TryGetProperty("LogLevel", out _), e.ToString());
            Assert.True(e.TryGetProperty("Message", out _), e.ToString());
        });
        var call = Assert.Single(entries, e => e.ToString().Contains(missing, StringComparison.Ordinal));
        var state = call.GetProperty("State");
        Assert.Equal("ControllerGetVolume", state.GetProperty("Method").GetString());
        Assert.Equal(missing, state.GetProperty("VolumeId").GetString());
        Assert.Equal("NotFound", state.GetProperty("StatusCode").GetString());
        Assert.True(state.TryGetProperty("DurationMs", out _));
        Assert.Equal("Warning", call.GetProperty("LogLevel").GetString());
        Assert.False(call.TryGetProperty("Exception", out _), "an expected error carries no stack trace");
    }

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }
}
