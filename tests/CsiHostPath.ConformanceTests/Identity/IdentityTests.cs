using System.Text.RegularExpressions;
using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using ServiceType = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace CsiHostPath.ConformanceTests.Identity;

/// <summary>Spec "Identity Service RPC": GetPluginInfo, GetPluginCapabilities, Probe.</summary>
public sealed partial class IdentityTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>
{
    [Fact]
    public async Task GetPluginInfo_Always_ReturnsDomainStyleNameAndVersion()
    {
        var info = await endpoint.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());

        // Spec: name MUST follow domain name notation, at most 63 characters; vendor_version is REQUIRED.
        Assert.InRange(info.Name.Length, 1, 63);
        Assert.Matches(DomainName(), info.Name);
        Assert.NotEmpty(info.VendorVersion);
    }

    [Fact]
    public async Task GetPluginInfo_CalledTwice_ReturnsSameName()
    {
        var first = await endpoint.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        var second = await endpoint.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());

        Assert.Equal(first.Name, second.Name);
        Assert.Equal(first.VendorVersion, second.VendorVersion);
    }

    [Fact]
    public async Task GetPluginCapabilities_ControllerServiceAdvertised_ControllerAnswers()
    {
        var capabilities = await endpoint.Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());

        Assert.Contains(capabilities.Capabilities, c => c.Service?.Type == ServiceType.ControllerService);
        var controller = await endpoint.Client.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        Assert.NotEmpty(controller.Capabilities);
    }

    [Fact]
    public async Task GetPluginCapabilities_AccessibilityConstraints_NodeReportsTopology()
    {
        var capabilities = await endpoint.Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());

        // Spec: with VOLUME_ACCESSIBILITY_CONSTRAINTS, NodeGetInfo's accessible_topology is what volumes are matched against.
        Assert.Contains(capabilities.Capabilities, c => c.Service?.Type == ServiceType.VolumeAccessibilityConstraints);
        var info = await endpoint.Client.Node.NodeGetInfoAsync(new NodeGetInfoRequest());
        Assert.NotEmpty(info.AccessibleTopology.Segments);
    }

    [Fact]
    public async Task Probe_HealthyDriver_ReportsReady()
    {
        var probe = await endpoint.Client.Identity.ProbeAsync(new ProbeRequest());

        // ready is OPTIONAL and absent means ready, so another driver may leave it out; csi-hostpath always sets it,
        // and for it the value itself is checked.
        if (CsiEndpoint.IsExternal)
            Assert.NotEqual(false, probe.Ready);
        else
            Assert.True(probe.Ready);
    }

    [GeneratedRegex(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    private static partial Regex DomainName();
}
