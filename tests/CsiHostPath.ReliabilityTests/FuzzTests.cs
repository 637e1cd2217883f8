using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Every CSI request type with random and boundary field values (CHP_FUZZ_CASES calls, seed CHP_FUZZ_SEED): the
/// driver stays up, answers every call with a CSI status code and never INTERNAL, UNKNOWN or a hang, creates and removes
/// nothing outside its roots, and never writes a value from a secrets field to its log.
/// </summary>
public sealed class FuzzTests(FuzzTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<FuzzTests.Fixture>
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The calls for which INTERNAL is the right answer to some fuzzed request, and why. INTERNAL is for the driver's
    /// own bugs: bad input gets the spec's code for it, so today no call is listed and every INTERNAL fails the test,
    /// as do UNKNOWN, a hung call (DEADLINE_EXCEEDED) and UNAVAILABLE.
    /// </summary>
    private static readonly Dictionary<string, string> InternalIsRight = [];

    [Fact]
    public async Task EveryRequestType_RandomAndBoundaryFields_SpecStatusAndNothingOutsideTheRoots()
    {
        int cases = Scale.FuzzCases, seed = Scale.FuzzSeed;
        var random = new Random(seed);
        var values = new FuzzValues(random, fixture.RealVolumeIds, fixture.Sandbox, fixture.Canary.EmptyDirectory);
        var outsideBefore = TopLevelNames();
        var calls = Calls(values);
        var codes = new SortedDictionary<string, int>();
        var failures = new List<string>();
        int pid = fixture.Driver.Pid;

        for (int i = 0; i < cases && failures.Count < 10; i++)
        {
            var (name, call) = calls[random.Next(calls.Length)];
            StatusCode code;
            try
            {
                await call(DateTime.UtcNow + CallTimeout);
                code = StatusCode.OK;
            }
            catch (RpcException e)
            {
                code = e.StatusCode;
                if (code is StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unavailable
                    || (code is StatusCode.Internal && !InternalIsRight.ContainsKey(name)))
                    failures.Add($"case {i} {name}: {e.Status}");
            }
            codes[$"{name}:{code}"] = codes.GetValueOrDefault($"{name}:{code}") + 1;
            if (!IsAlive(pid))
                failures.Add($"case {i} {name}: the driver is gone:\n{fixture.Driver.Output}");
        }

        string summary = string.Join(' ', codes.Select(kv => $"{kv.Key}={kv.Value}"));
        Results.Report(output, "fuzz", $"cases={cases} seed={seed} request_types={calls.Length} failures={failures.Count} internal={codes.Where(kv => kv.Key.EndsWith(":Internal", StringComparison.Ordinal)).Sum(kv => kv.Value)}");
        output.WriteLine(summary);
        Assert.True(failures.Count == 0, $"seed {seed}:\n{string.Join('\n', failures)}");
        fixture.Canary.AssertUntouched();
        Assert.Equal(outsideBefore, TopLevelNames());
        Assert.DoesNotContain(FuzzValues.SecretMarker, fixture.Driver.Output);
    }

    private (string Name, Func<DateTime, Task> Call)[] Calls(FuzzValues v)
    {
        var identity = fixture.Client.Identity;
        var controller = fixture.Client.Controller;
        var node = fixture.Client.Node;
        var group = fixture.Client.GroupController;
        return
        [
            ("GetPluginInfo", d => identity.GetPluginInfoAsync(new GetPluginInfoRequest(), deadline: d).ResponseAsync),
            ("GetPluginCapabilities", d => identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest(), deadline: d).ResponseAsync),
            ("Probe", d => identity.ProbeAsync(new ProbeRequest(), deadline: d).ResponseAsync),
            ("CreateVolume", d =>
            {
                var r = new CreateVolumeRequest { Name = v.AnyString(), CapacityRange = v.Capacity(), AccessibilityRequirements = v.Topology() };
                v.AddCapabilities(r.VolumeCapabilities);
                // One in three is a valid request but for one field, so the fuzzer reaches past validation.
                if (v.Chance(3))
                    r = CsiHostPath.Testing.Requests.Create("fuzz-" + v.AnyInt(), requiredBytes: v.Chance(2) ? 1 << 20 : v.AnyLong());
                else
                    v.FillMap(r.Parameters);
                v.FillMap(r.Secrets, secret: true);
                v.FillMap(r.MutableParameters);
                return controller.CreateVolumeAsync(r, deadline: d).ResponseAsync;
            }),
            ("DeleteVolume", d =>
            {
                var r = new DeleteVolumeRequest { VolumeId = v.Chance(4) ? v.AnyString() : v.VolumeAndTarget().VolumeId };
                v.FillMap(r.Secrets, secret: true);
                return controller.DeleteVolumeAsync(r, deadline: d).ResponseAsync;
            }),
            ("ControllerPublishVolume", d => controller.ControllerPublishVolumeAsync(new ControllerPublishVolumeRequest { VolumeId = v.AnyString(), NodeId = v.AnyString(), VolumeCapability = v.Capability(), Readonly = v.Chance(2) }, deadline: d).ResponseAsync),
            ("ControllerUnpublishVolume", d => controller.ControllerUnpublishVolumeAsync(new ControllerUnpublishVolumeRequest { VolumeId = v.AnyString(), NodeId = v.AnyString() }, deadline: d).ResponseAsync),
            ("ValidateVolumeCapabilities", d =>
            {
                var r = new ValidateVolumeCapabilitiesRequest { VolumeId = v.AnyString() };
                v.AddCapabilities(r.VolumeCapabilities);
                v.FillMap(r.VolumeContext);
                v.FillMap(r.Parameters);
                v.FillMap(r.Secrets, secret: true);
                return controller.ValidateVolumeCapabilitiesAsync(r, deadline: d).ResponseAsync;
            }),
            ("ListVolumes", d => controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = v.AnyInt(), StartingToken = v.Chance(2) ? "" : v.AnyString() }, deadline: d).ResponseAsync),
            ("GetCapacity", d =>
            {
                var r = new GetCapacityRequest { AccessibleTopology = v.Topology()?.Requisite.FirstOrDefault() };
                v.AddCapabilities(r.VolumeCapabilities);
                v.FillMap(r.Parameters);
                return controller.GetCapacityAsync(r, deadline: d).ResponseAsync;
            }),
            ("ControllerGetCapabilities", d => controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest(), deadline: d).ResponseAsync),
            ("CreateSnapshot", d => controller.CreateSnapshotAsync(new CreateSnapshotRequest { SourceVolumeId = v.AnyString(), Name = v.AnyString() }, deadline: d).ResponseAsync),
            ("DeleteSnapshot", d => controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = v.AnyString() }, deadline: d).ResponseAsync),
            ("ListSnapshots", d => controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = v.AnyInt(), SourceVolumeId = v.AnyString() }, deadline: d).ResponseAsync),
            ("GetSnapshot", d => controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = v.AnyString() }, deadline: d).ResponseAsync),
            ("ControllerExpandVolume", d => controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest { VolumeId = v.VolumeAndTarget().VolumeId, CapacityRange = v.Capacity(), VolumeCapability = v.Capability() }, deadline: d).ResponseAsync),
            ("ControllerGetVolume", d => controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = v.AnyString() }, deadline: d).ResponseAsync),
            ("ControllerModifyVolume", d =>
            {
                var r = new ControllerModifyVolumeRequest { VolumeId = v.AnyString() };
                v.FillMap(r.MutableParameters);
                v.FillMap(r.Secrets, secret: true);
                return controller.ControllerModifyVolumeAsync(r, deadline: d).ResponseAsync;
            }),
            ("GroupControllerGetCapabilities", d => group.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest(), deadline: d).ResponseAsync),
            ("CreateVolumeGroupSnapshot", d => group.CreateVolumeGroupSnapshotAsync(new CreateVolumeGroupSnapshotRequest { Name = v.AnyString(), SourceVolumeIds = { v.AnyString() } }, deadline: d).ResponseAsync),
            ("DeleteVolumeGroupSnapshot", d => group.DeleteVolumeGroupSnapshotAsync(new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = v.AnyString() }, deadline: d).ResponseAsync),
            ("GetVolumeGroupSnapshot", d => group.GetVolumeGroupSnapshotAsync(new GetVolumeGroupSnapshotRequest { GroupSnapshotId = v.AnyString() }, deadline: d).ResponseAsync),
            ("NodeStageVolume", d => node.NodeStageVolumeAsync(new NodeStageVolumeRequest { VolumeId = v.AnyString(), StagingTargetPath = v.VolumeAndTarget().TargetPath, VolumeCapability = v.Capability() }, deadline: d).ResponseAsync),
            ("NodeUnstageVolume", d => node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = v.AnyString(), StagingTargetPath = v.VolumeAndTarget().TargetPath }, deadline: d).ResponseAsync),
            ("NodePublishVolume", d =>
            {
                var (id, target) = v.VolumeAndTarget();
                var r = new NodePublishVolumeRequest { VolumeId = id, TargetPath = target, VolumeCapability = v.Capability(), Readonly = v.Chance(2), StagingTargetPath = v.Chance(4) ? v.AnyString() : "" };
                v.FillMap(r.VolumeContext);
                v.FillMap(r.PublishContext);
                v.FillMap(r.Secrets, secret: true);
                return node.NodePublishVolumeAsync(r, deadline: d).ResponseAsync;
            }),
            ("NodeUnpublishVolume", d =>
            {
                var (id, target) = v.VolumeAndTarget();
                return node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target }, deadline: d).ResponseAsync;
            }),
            ("NodeGetVolumeStats", d =>
            {
                var (id, target) = v.VolumeAndTarget();
                return node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target, StagingTargetPath = v.Chance(4) ? v.AnyString() : "" }, deadline: d).ResponseAsync;
            }),
            ("NodeExpandVolume", d =>
            {
                var (id, target) = v.VolumeAndTarget();
                return node.NodeExpandVolumeAsync(new NodeExpandVolumeRequest { VolumeId = id, VolumePath = target, CapacityRange = v.Capacity(), VolumeCapability = v.Capability() }, deadline: d).ResponseAsync;
            }),
            ("NodeGetCapabilities", d => node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest(), deadline: d).ResponseAsync),
            ("NodeGetInfo", d => node.NodeGetInfoAsync(new NodeGetInfoRequest(), deadline: d).ResponseAsync),
        ];
    }

    private static bool IsAlive(int pid) =>
        Native.Kill(pid, 0) == 0 && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    /// <summary>What sits at / and right under the temp root's parent: a driver reaching outside its roots would change these.</summary>
    private string[] TopLevelNames() =>
        [.. Directory.GetFileSystemEntries("/").Order(StringComparer.Ordinal), .. Directory.GetFileSystemEntries(fixture.Root.Path).Order(StringComparer.Ordinal)];

    /// <summary>A driver with a few real volumes, some published into the sandbox, for the fuzzer to aim at.</summary>
    public sealed class Fixture : DriverFixture
    {
        public List<string> RealVolumeIds { get; } = [];

        public string Sandbox => Driver.PodsDir;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Directory.CreateDirectory(Sandbox);
            for (int i = 0; i < 4; i++)
            {
                RealVolumeIds.Add(await CreateAsync($"fuzz-real-{i}"));
                await PublishAsync(RealVolumeIds[i], Path.Combine(Sandbox, $"t{i}"));
            }
        }
    }
}
