using Csi.V1;
using CsiHostPath.Testing;
using Grpc.Core;

namespace CsiHostPath.IntegrationTests;

/// <summary>The PVC lifecycle as external-provisioner and kubelet drive it, against the real driver with real mounts.</summary>
public sealed class LifecycleTests : IAsyncLifetime
{
    private readonly TempRoot _root = new();
    private DriverProcess _driver = null!;

    public async Task InitializeAsync() => _driver = await DriverProcess.StartAsync(_root);

    public async Task DisposeAsync()
    {
        await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task PublishedVolume_DataWrittenThroughMount_SurvivesUnpublishAndRestart()
    {
        var volume = await CreateAsync("pvc-lifecycle");
        string target = _root.Combine("pods", "a", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        Assert.True(Mounts.IsMountPoint(target));
        await File.WriteAllTextAsync(Path.Combine(target, "hello.txt"), "kept");

        await _driver.Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target });
        Assert.False(Directory.Exists(target));
        await _driver.RestartAfterKillAsync();

        string second = _root.Combine("pods", "b", "mount");
        Directory.CreateDirectory(Path.GetDirectoryName(second)!);
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, second));
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(second, "hello.txt")));
    }

    [Fact]
    public async Task ReadOnlyPublish_RefusesWrites()
    {
        var volume = await CreateAsync("pvc-readonly");
        string target = _root.Combine("ro");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target, readOnly: true));

        Assert.True(Mounts.IsReadOnlyMount(target));
        var error = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "x"), "x"));
        Assert.Contains("Read-only", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DeleteVolume_WhilePublished_FailsPreconditionAndKeepsData()
    {
        var volume = await CreateAsync("pvc-busy");
        string target = _root.Combine("busy");
        await _driver.Client.Node.NodePublishVolumeAsync(Requests.Publish(volume.VolumeId, target));
        await File.WriteAllTextAsync(Path.Combine(target, "data"), "precious");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("precious", await File.ReadAllTextAsync(Path.Combine(target, "data")));
    }

    private async Task<Volume> CreateAsync(string name) =>
        (await _driver.Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume;
}
