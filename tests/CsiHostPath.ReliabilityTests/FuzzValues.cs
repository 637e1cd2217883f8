using Csi.V1;
using Google.Protobuf.Collections;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Random and boundary field values from one seed: empty, huge, odd and real identifiers, negative and extreme
/// numbers, invalid enum values, absent and contradictory capabilities. Real volume ids come only with target
/// paths inside the fuzz sandbox, so whatever the driver mounts stays in the test's own tree.
/// </summary>
internal sealed class FuzzValues(Random random, IReadOnlyList<string> realVolumeIds, string sandbox, string canary)
{
    public const string SecretMarker = "s3cr3t-fuzz-value";

    private static readonly string[] OddStrings =
    [
        "", " ", "a", "..", "../../../etc", "/", "/etc/passwd", "x\0y", "\n", "名前", "%s%n", "' OR 1=1 --",
        new string('v', 128), new string('v', 129), new string('w', 4096), new string('z', 70_000),
    ];

    public bool Chance(int inN) => random.Next(inN) == 0;

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    public string AnyString() => random.Next(4) switch
    {
        0 => Pick(OddStrings),
        1 => new string(Enumerable.Range(0, random.Next(64)).Select(_ => (char)random.Next(32, 0x2FFF)).ToArray()),
        2 when realVolumeIds.Count > 0 => Pick(realVolumeIds),
        _ => Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))[..random.Next(1, 16)] + new string('0', 16),
    };

    /// <summary>A volume id and a target path that go together safely.</summary>
    public (string VolumeId, string TargetPath) VolumeAndTarget()
    {
        if (realVolumeIds.Count > 0 && Chance(2))
            return (Pick(realVolumeIds), Path.Combine(sandbox, $"t{random.Next(20)}"));
        string target = random.Next(6) switch
        {
            0 => "",
            1 => "relative/path",
            2 => Path.Combine(sandbox, "..", "..", "escape"),
            3 => canary,
            4 => "/" + new string('p', 5000),
            _ => AnyString(),
        };
        return (Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + "ffffffffffffffff", target);
    }

    public long AnyLong() => random.Next(6) switch
    {
        0 => 0,
        1 => -1,
        2 => long.MaxValue,
        3 => long.MinValue,
        4 => 1L << random.Next(62),
        _ => random.NextInt64(),
    };

    public int AnyInt() => random.Next(4) switch
    {
        0 => 0,
        1 => -1,
        2 => int.MaxValue,
        _ => random.Next(),
    };

    public void FillMap(MapField<string, string> map, bool secret = false)
    {
        int count = random.Next(5) switch { 0 => 0, 1 => 1, 2 => random.Next(300), _ => random.Next(4) };
        for (int i = 0; i < count; i++)
        {
            string key = Chance(2) ? "csi.storage.k8s.io/" + AnyString() : AnyString();
            if (key.Length > 0)
                map[key] = secret ? SecretMarker + i : AnyString();
        }
    }

    public VolumeCapability? Capability()
    {
        if (Chance(6))
            return null;
        var capability = new VolumeCapability();
        if (!Chance(6))
            capability.AccessMode = new VolumeCapability.Types.AccessMode { Mode = (VolumeCapability.Types.AccessMode.Types.Mode)random.Next(-1, 9) };
        switch (random.Next(3))
        {
            case 0:
                capability.Block = new VolumeCapability.Types.BlockVolume();
                break;
            case 1:
                capability.Mount = new VolumeCapability.Types.MountVolume { FsType = Chance(2) ? "" : AnyString(), VolumeMountGroup = Chance(3) ? AnyString() : "" };
                for (int i = random.Next(4); i > 0; i--)
                    capability.Mount.MountFlags.Add(Pick(new[] { "ro", "noexec", "bind", "remount", "nodev", AnyString() }));
                break;
        }
        return capability;
    }

    public void AddCapabilities(RepeatedField<VolumeCapability> field)
    {
        for (int i = random.Next(3); i > 0; i--)
        {
            if (Capability() is { } capability)
                field.Add(capability);
        }
    }

    public TopologyRequirement? Topology()
    {
        if (Chance(2))
            return null;
        var requirement = new TopologyRequirement();
        for (int i = random.Next(3); i > 0; i--)
        {
            var topology = new Topology();
            topology.Segments[Chance(2) ? CsiHostPath.Testing.DriverProcess.TopologyKey : AnyString() + "k"] = Chance(2) ? CsiHostPath.Testing.DriverProcess.NodeId : AnyString();
            (Chance(2) ? requirement.Requisite : requirement.Preferred).Add(topology);
        }
        return requirement;
    }

    public CapacityRange? Capacity() => Chance(3) ? null : new CapacityRange { RequiredBytes = AnyLong(), LimitBytes = Chance(2) ? 0 : AnyLong() };
}
