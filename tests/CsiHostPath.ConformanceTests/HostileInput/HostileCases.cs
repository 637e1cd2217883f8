using Csi.V1;
using CsiHostPath.ConformanceTests.Infrastructure;
using Grpc.Core;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace CsiHostPath.ConformanceTests.HostileInput;

/// <summary>
/// The hostile-input table. Names and ids that would walk out of a data dir if used as paths, target paths that are
/// relative or climb out, capabilities a volume made with no parameters cannot honour, and sizes no node has. The "../../canary"
/// rows point at the canary tree beside csi-hostpath's data dir (data/volumes/../../canary) so that a driver
/// that joins ids into paths would hit it.
/// </summary>
public static class HostileCases
{
    private const StatusCode Invalid = StatusCode.InvalidArgument;

    private static readonly string Long129Bytes = new('n', 129);
    private static readonly string Exact128Bytes = new('n', 128);
    private static readonly string TenThousandChars = new('n', 10_000);

    // 65 two-byte characters: 130 bytes, under 128 characters; the limit is in bytes.
    private static readonly string Long130BytesIn65Chars = new('é', 65);

    private static readonly Dictionary<string, string> HostileNames = new()
    {
        ["dot"] = ".",
        ["dotdot"] = "..",
        ["dotdot-x"] = "../x",
        ["dotdot-canary"] = "../../canary",
        ["slash"] = "a/b",
        ["absolute"] = "/etc",
        ["nul"] = "a\0b",
        ["129-bytes"] = Long129Bytes,
        ["130-bytes-65-chars"] = Long130BytesIn65Chars,
        ["10000-chars"] = TenThousandChars,
        ["newline"] = "a\nb",
        ["tab"] = "a\tb",
        ["escape-sequence"] = "\u001b[31mred",
        ["del"] = "a\u007f",
    };

    public static IReadOnlyDictionary<string, HostileCase> All { get; } = Build();

    private static Dictionary<string, HostileCase> Build()
    {
        var cases = new Dictionary<string, HostileCase>();
        foreach (var (label, name) in HostileNames)
        {
            cases[$"CreateVolume name {label}"] = new(c => c.Controller.CreateVolumeAsync(c.Requests.Create(name)).ResponseAsync, Invalid);
            cases[$"DeleteVolume id {label}"] = new(c => c.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = name }).ResponseAsync, Invalid);
        }
        foreach (var (label, id) in new[] { ("dotdot-canary", "../../canary"), ("slash", "a/b"), ("nul", "a\0b"), ("10000-chars", TenThousandChars) })
        {
            cases[$"ControllerGetVolume id {label}"] = new(
                c => c.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }).ResponseAsync, Invalid);
            cases[$"ValidateVolumeCapabilities id {label}"] = new(
                c => c.Controller.ValidateVolumeCapabilitiesAsync(new ValidateVolumeCapabilitiesRequest
                {
                    VolumeId = id,
                    VolumeCapabilities = { c.Requests.Capability() },
                }).ResponseAsync, Invalid);
            cases[$"NodePublishVolume id {label}"] = new(
                c => c.Node.NodePublishVolumeAsync(c.Requests.Publish(id, c.Endpoint.NewTargetWithParent("hostile-id"))).ResponseAsync, Invalid);
            cases[$"NodeUnpublishVolume id {label}"] = new(
                c => c.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(id, c.CanaryDir)).ResponseAsync, Invalid);
            cases[$"NodeGetVolumeStats id {label}"] = new(
                c => c.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = c.CanaryDir }).ResponseAsync, Invalid);
        }

        cases["CreateVolume name of exactly 128 bytes (the limit)"] = new(async c =>
        {
            var volume = (await c.Controller.CreateVolumeAsync(c.Requests.Create(Exact128Bytes))).Volume;
            await c.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
        }, StatusCode.OK);

        AddTargetPaths(cases);
        AddAccessTypes(cases);
        AddSizes(cases);
        return cases;
    }

    private static void AddTargetPaths(Dictionary<string, HostileCase> cases)
    {
        var targets = new Dictionary<string, Func<HostileContext, string>>
        {
            ["relative"] = _ => "hostile-relative/target",
            ["dotdot into canary"] = c => Path.Combine(c.Endpoint.TargetRoot, "..", "canary", "escaped"),
            ["dotdot at the end"] = c => Path.Combine(c.Endpoint.TargetRoot, "x", ".."),
            ["dot component"] = c => Path.Combine(c.Endpoint.TargetRoot, ".", "dot"),
            ["nul"] = c => Path.Combine(c.Endpoint.TargetRoot, "a\0b"),
        };
        foreach (var (label, target) in targets)
        {
            cases[$"NodePublishVolume target {label}"] = new(
                c => c.Node.NodePublishVolumeAsync(c.Requests.Publish(c.VictimVolumeId, target(c))).ResponseAsync, Invalid);
            cases[$"NodeUnpublishVolume target {label}"] = new(
                c => c.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(c.VictimVolumeId, target(c))).ResponseAsync, Invalid);
        }

        cases["NodePublishVolume target symlink to the canary"] = new(c =>
        {
            string link = c.Endpoint.NewTargetWithParent("hostile-link");
            File.CreateSymbolicLink(link, c.CanaryDir);
            return c.Node.NodePublishVolumeAsync(c.Requests.Publish(c.VictimVolumeId, link)).ResponseAsync;
        }, Invalid);
        cases["NodePublishVolume target is a file"] = new(c =>
        {
            string file = c.Endpoint.NewTargetWithParent("hostile-file");
            File.WriteAllText(file, "not a directory");
            return c.Node.NodePublishVolumeAsync(c.Requests.Publish(c.VictimVolumeId, file)).ResponseAsync;
        }, Invalid);
        cases["NodeUnpublishVolume target the canary it never published at"] = new(
            c => c.Node.NodeUnpublishVolumeAsync(VolumeRequests.Unpublish(c.VictimVolumeId, c.CanaryDir)).ResponseAsync, StatusCode.OK);
        cases["NodeGetVolumeStats path the canary it is not published at"] = new(
            c => c.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = c.VictimVolumeId, VolumePath = c.CanaryDir }).ResponseAsync,
            StatusCode.NotFound);
        cases["NodeGetVolumeStats path relative"] = new(
            c => c.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = c.VictimVolumeId, VolumePath = "canary" }).ResponseAsync,
            StatusCode.NotFound);
    }

    /// <summary>
    /// Every request here has no parameters, so the volume is of the driver's default kind: for csi-hostpath a plain
    /// directory, which has no device to hand out as a block volume and no filesystem of its own to choose. The same
    /// block and fs_type requests are valid with the StorageClass parameter backing: image (OwnDriver/ImageBackingTests).
    /// </summary>
    private static void AddAccessTypes(Dictionary<string, HostileCase> cases)
    {
        var capabilities = new Dictionary<string, Func<VolumeRequests, VolumeCapability>>
        {
            ["block (default backing)"] = _ => VolumeRequests.BlockCapability(),
            ["MULTI_NODE_READER_ONLY"] = r => r.Capability(Mode.MultiNodeReaderOnly),
            ["MULTI_NODE_SINGLE_WRITER"] = r => r.Capability(Mode.MultiNodeSingleWriter),
            ["MULTI_NODE_MULTI_WRITER"] = r => r.Capability(Mode.MultiNodeMultiWriter),
            ["fs_type xfs (default backing)"] = r => r.Capability(fsType: "xfs"),
            ["mount flag not known"] = r => WithMountFlag(r.Capability(), "suid,dev;rm -rf /"),
            ["access mode 99"] = r => r.Capability((Mode)99),
        };
        foreach (var (label, capability) in capabilities)
        {
            cases[$"CreateVolume capability {label}"] = new(c =>
            {
                var request = c.Requests.Create(VolumeNames.New("hostile-cap"));
                request.VolumeCapabilities[0] = capability(c.Requests);
                return c.Controller.CreateVolumeAsync(request).ResponseAsync;
            }, Invalid);
            // Spec NodePublishVolume "Exceeds capabilities": FAILED_PRECONDITION.
            cases[$"NodePublishVolume capability {label}"] = new(c =>
            {
                var request = c.Requests.Publish(c.VictimVolumeId, c.Endpoint.NewTargetWithParent("hostile-cap"));
                request.VolumeCapability = capability(c.Requests);
                return c.Node.NodePublishVolumeAsync(request).ResponseAsync;
            }, StatusCode.FailedPrecondition);
        }
        cases["CreateVolume capability access mode UNKNOWN"] = new(c =>
        {
            var request = c.Requests.Create(VolumeNames.New("hostile-unknown"));
            request.VolumeCapabilities[0] = c.Requests.Capability(Mode.Unknown);
            return c.Controller.CreateVolumeAsync(request).ResponseAsync;
        }, Invalid);
        cases["CreateVolume capability with neither mount nor block"] = new(c =>
        {
            var request = c.Requests.Create(VolumeNames.New("hostile-neither"));
            request.VolumeCapabilities[0].ClearAccessType();
            return c.Controller.CreateVolumeAsync(request).ResponseAsync;
        }, Invalid);
    }

    private static void AddSizes(Dictionary<string, HostileCase> cases)
    {
        cases["CreateVolume required_bytes -1"] = new(c => Create(c, -1, 0), Invalid);
        cases["CreateVolume required_bytes long.MinValue"] = new(c => Create(c, long.MinValue, 0), Invalid);
        cases["CreateVolume limit_bytes -1"] = new(c => Create(c, 0, -1), Invalid);
        // No node has 8 EiB: "no room here" (RESOURCE_EXHAUSTED) and "a range this plugin cannot serve" (OUT_OF_RANGE) both fit the spec.
        cases["CreateVolume required_bytes long.MaxValue"] = new(c => Create(c, long.MaxValue, 0), StatusCode.ResourceExhausted, StatusCode.OutOfRange);
        cases["CreateVolume required long.MaxValue above limit 1 MiB"] = new(c => Create(c, long.MaxValue, 1 << 20), StatusCode.OutOfRange);
        cases["CreateVolume limit_bytes long.MaxValue"] = new(async c =>
        {
            var volume = (await c.Controller.CreateVolumeAsync(c.Requests.Create(VolumeNames.New("hostile-huge-limit"), 1 << 20, long.MaxValue))).Volume;
            Assert.InRange(volume.CapacityBytes, 1 << 20, long.MaxValue);
            await c.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
        }, StatusCode.OK);
        cases["CreateVolume parameters over 4 KiB"] = new(c =>
        {
            var request = c.Requests.Create(VolumeNames.New("hostile-params"));
            request.Parameters["csi.storage.k8s.io/pvc/name"] = new string('p', 5000);
            return c.Controller.CreateVolumeAsync(request).ResponseAsync;
        }, Invalid);
        cases["ListVolumes max_entries int.MinValue"] = new(
            c => c.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = int.MinValue }).ResponseAsync, Invalid);
        cases["ListVolumes starting_token dotdot-canary"] = new(
            c => c.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = "../../canary" }).ResponseAsync, StatusCode.Aborted);
        cases["ListVolumes starting_token 10000 chars"] = new(
            c => c.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = TenThousandChars }).ResponseAsync, StatusCode.Aborted);
    }

    private static Task Create(HostileContext c, long requiredBytes, long limitBytes) =>
        c.Controller.CreateVolumeAsync(c.Requests.Create(VolumeNames.New("hostile-size"), requiredBytes, limitBytes)).ResponseAsync;

    private static VolumeCapability WithMountFlag(VolumeCapability capability, string flag)
    {
        capability.Mount.MountFlags.Add(flag);
        return capability;
    }
}
