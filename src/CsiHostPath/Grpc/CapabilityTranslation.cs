using CsiHostPath.Volumes;
using Grpc.Core;
using CsiCapability = Csi.V1.VolumeCapability;

namespace CsiHostPath.Grpc;

/// <summary>Between CSI's VolumeCapability message and the domain's <see cref="VolumeAccess"/>.</summary>
internal static class CapabilityTranslation
{
    public static VolumeAccess ToAccess(CsiCapability capability, string field)
    {
        if (capability.AccessMode is null || capability.AccessMode.Mode == CsiCapability.Types.AccessMode.Types.Mode.Unknown)
            throw RequestValidation.Invalid(field, "has no access_mode");
        var mode = (AccessMode)(int)capability.AccessMode.Mode;
        return capability.AccessTypeCase switch
        {
            CsiCapability.AccessTypeOneofCase.Mount => new VolumeAccess(
                AccessType.Mount, mode, capability.Mount.FsType, [.. capability.Mount.MountFlags]),
            CsiCapability.AccessTypeOneofCase.Block => new VolumeAccess(AccessType.Block, mode, "", []),
            _ => throw RequestValidation.Invalid(field, "has neither mount nor block access_type"),
        };
    }

    public static IReadOnlyList<VolumeAccess> ToAccesses(IEnumerable<CsiCapability> capabilities, string field)
    {
        var accesses = capabilities.Select(c => ToAccess(c, field)).ToList();
        return accesses.Count > 0 ? accesses : throw RequestValidation.Invalid(field, "is required");
    }
}
