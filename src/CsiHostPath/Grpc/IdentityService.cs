using System.Reflection;
using Csi.V1;
using CsiHostPath.Options;
using CsiHostPath.Volumes;
using Grpc.Core;

namespace CsiHostPath.Grpc;

public sealed class IdentityService(DriverOptions options, DataDirProbe probe) : Identity.IdentityBase
{
    private static readonly string Version =
        typeof(IdentityService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public override Task<GetPluginInfoResponse> GetPluginInfo(GetPluginInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetPluginInfoResponse { Name = options.DriverName, VendorVersion = Version });

    public override Task<GetPluginCapabilitiesResponse> GetPluginCapabilities(GetPluginCapabilitiesRequest request, ServerCallContext context) =>
        Task.FromResult(new GetPluginCapabilitiesResponse
        {
            Capabilities =
            {
                new PluginCapability { Service = new PluginCapability.Types.Service { Type = PluginCapability.Types.Service.Types.Type.ControllerService } },
                new PluginCapability { Service = new PluginCapability.Types.Service { Type = PluginCapability.Types.Service.Types.Type.VolumeAccessibilityConstraints } },
                new PluginCapability { Service = new PluginCapability.Types.Service { Type = PluginCapability.Types.Service.Types.Type.GroupControllerService } },
                new PluginCapability { VolumeExpansion = new PluginCapability.Types.VolumeExpansion { Type = PluginCapability.Types.VolumeExpansion.Types.Type.Online } },
            },
        });

    public override Task<ProbeResponse> Probe(ProbeRequest request, ServerCallContext context) =>
        Task.FromResult(probe.Problem() is { } problem
            ? throw new RpcException(new Status(StatusCode.FailedPrecondition, problem))
            : new ProbeResponse { Ready = true });
}
