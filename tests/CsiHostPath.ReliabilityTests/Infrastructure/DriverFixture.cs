using CsiHostPath.Client;
using Csi.V1;
using CsiHostPath.Testing;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>A driver on a <see cref="NodeHarness"/> in its own temp root with a canary tree beside its data dir, shared by one test class.</summary>
public class DriverFixture : IAsyncLifetime
{
    public TempRoot Root { get; } = new("chp-rel");

    public DriverProcess Driver { get; private set; } = null!;

    public Canary Canary { get; private set; } = null!;

    public CsiClient Client => Driver.Client;

    public string VolumesDir => Path.Combine(Driver.DataDir, "volumes");

    public string DataPath(string volumeId) => Path.Combine(VolumesDir, volumeId, "data");

    public string Target(string name) => Path.Combine(Driver.PodsDir, name);

    /// <summary>The size of the driver's data dir filesystem.</summary>
    protected virtual long DataDirBytes => NodeHarness.DefaultDataDirBytes;

    public virtual async Task InitializeAsync()
    {
        Canary = new Canary(Root.Combine("canary"));
        Driver = await DriverProcess.StartOnNodeAsync(Root, DataDirBytes);
    }

    public async Task<string> CreateAsync(string name) =>
        (await Client.Controller.CreateVolumeAsync(Requests.Create(name))).Volume.VolumeId;

    public async Task PublishAsync(string volumeId, string target) =>
        await Client.Node.NodePublishVolumeAsync(Requests.Publish(volumeId, target));

    public async Task UnpublishAsync(string volumeId, string target) =>
        await Client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target });

    public async Task DeleteAsync(string volumeId) =>
        await Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });

    public virtual async Task DisposeAsync()
    {
        await Driver.DisposeAsync();
        Root.Dispose();
    }
}
