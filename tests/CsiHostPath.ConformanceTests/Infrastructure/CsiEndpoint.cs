using CsiHostPath.Client;
using Csi.V1;
using CsiHostPath.Testing;
using ControllerCapability = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using NodeCapability = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;
using PluginCapability = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>
/// The driver under test, one per test class: csi-hostpath started in a temp root, or, when CSI_ENDPOINT names a
/// socket, whatever driver listens there. Either way targets go under <see cref="TargetRoot"/>, and what the
/// suite needs to know about the node (its id, topology, capabilities) is asked of the driver, not assumed.
/// </summary>
public sealed class CsiEndpoint : IAsyncLifetime
{
    private const string EndpointVariable = "CSI_ENDPOINT";
    private const string TargetRootVariable = "CSI_TEST_TARGET_ROOT";

    private DriverProcess? _driver;
    private CsiClient? _externalClient;

    public static bool IsExternal => ExternalSocket is not null;

    private static string? ExternalSocket =>
        Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint ? endpoint.Replace("unix://", "") : null;

    /// <summary>The temp root of this class: the driver's socket and data dir (own driver), the targets, and the canary.</summary>
    public TempRoot Root { get; private set; } = null!;

    public string TargetRoot => Root.Combine("targets");

    public CsiClient Client => _driver?.Client ?? _externalClient!;

    /// <summary>The csi-hostpath process; only tests marked <see cref="OwnDriverFactAttribute"/> may use it.</summary>
    public DriverProcess Driver => _driver ?? throw new InvalidOperationException(OwnDriverFactAttribute.ExternalReason);

    public string NodeId { get; private set; } = "";

    public Topology NodeTopology { get; private set; } = new();

    public IReadOnlySet<PluginCapability> PluginCapabilities { get; private set; } = new HashSet<PluginCapability>();

    public IReadOnlySet<ControllerCapability> ControllerCapabilities { get; private set; } = new HashSet<ControllerCapability>();

    public IReadOnlySet<NodeCapability> NodeCapabilities { get; private set; } = new HashSet<NodeCapability>();

    public VolumeRequests Requests { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (ExternalSocket is { } socket)
        {
            Root = Environment.GetEnvironmentVariable(TargetRootVariable) is { Length: > 0 } parent
                ? new TempRoot("conformance", parent)
                : new TempRoot("conf");
            _externalClient = new CsiClient(socket);
        }
        else
        {
            Root = new TempRoot("conf");
            // Usage figures a second old at most, so a test sees a write counted without waiting out kubelet's minute.
            _driver = await DriverProcess.StartAsync(Root, "--usage-refresh-interval", "1s");
        }
        Directory.CreateDirectory(TargetRoot);

        var info = await Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());
        NodeId = info.NodeId;
        NodeTopology = info.AccessibleTopology ?? new Topology();
        PluginCapabilities = (await Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest())).Capabilities
            .Where(c => c.Service is not null).Select(c => c.Service.Type).ToHashSet();
        ControllerCapabilities = (await Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest())).Capabilities
            .Where(c => c.Rpc is not null).Select(c => c.Rpc.Type).ToHashSet();
        NodeCapabilities = (await Client.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())).Capabilities
            .Where(c => c.Rpc is not null).Select(c => c.Rpc.Type).ToHashSet();
        Requests = new VolumeRequests(NodeTopology, ControllerCapabilities.Contains(ControllerCapability.SingleNodeMultiWriter)
            && NodeCapabilities.Contains(NodeCapability.SingleNodeMultiWriter));
    }

    /// <summary>A target path for one publish, unique to the calling test; its parent exists, as kubelet makes it.</summary>
    public string NewTarget(string label) => Path.Combine(TargetRoot, label + "-" + Guid.NewGuid().ToString("N")[..8], "mount");

    /// <summary>A target like <see cref="NewTarget"/>, with its parent created.</summary>
    public string NewTargetWithParent(string label)
    {
        string target = NewTarget(label);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target;
    }

    public async Task<Volume> CreateVolumeAsync(string label, long requiredBytes = VolumeRequests.DefaultSize) =>
        (await Client.Controller.CreateVolumeAsync(Requests.Create(VolumeNames.New(label), requiredBytes))).Volume;

    public async Task DisposeAsync()
    {
        _externalClient?.Dispose();
        if (_driver is not null)
            await _driver.DisposeAsync();
        Root.Dispose();
    }
}
