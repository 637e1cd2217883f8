using CsiHostPath.DeployTests.Infrastructure;

namespace CsiHostPath.DeployTests;

/// <summary>deploy/kind cannot run here (no kind, no Docker engine): its scripts must at least parse and its config be what README promises.</summary>
public sealed class KindQuickstartTests
{
    public static TheoryData<string> Scripts() => [.. ScriptNames()];

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Script_ParsesWithBashNoExec(string script)
    {
        await Command.RunAsync("bash", "-n", Path.Combine(Repository.Deploy, "kind", script));
    }

    [Fact]
    public void Scripts_UpAndDownExist()
    {
        Assert.Equal(["down.sh", "up.sh"], ScriptNames());
    }

    [Fact]
    public void ClusterConfig_OneControlPlaneTwoWorkers()
    {
        var cluster = Assert.IsType<KindCluster>(Assert.Single(Manifests.LoadFile("kind/cluster.yaml")));

        Assert.Equal(["control-plane", "worker", "worker"], cluster.Nodes!.Select(n => n.Role));
    }

    [Fact]
    public void Quickstart_EveryWait_HasATimeoutAndNoNodeIsAssumed()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"))
            .Concat(File.ReadAllLines(Path.Combine(Repository.Deploy, "kind", "up.sh")))
            .ToList();

        // Without --timeout, `kubectl wait` gives up after 30 s and `rollout status` never does.
        var waits = lines.Where(l => l.Contains("kubectl", StringComparison.Ordinal)
            && (l.Contains(" wait ", StringComparison.Ordinal) || l.Contains("rollout status", StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(waits);
        Assert.All(waits, l => Assert.Contains("--timeout", l, StringComparison.Ordinal));
        // Which worker holds a volume is the scheduler's choice: the PV's node affinity says it, not a fixed name.
        Assert.DoesNotContain(lines, l => l.Contains("docker exec csi-hostpath-worker", StringComparison.Ordinal));
    }

    private static IEnumerable<string> ScriptNames() =>
        Directory.EnumerateFiles(Path.Combine(Repository.Deploy, "kind"), "*.sh").Select(file => Path.GetFileName(file)).Order(StringComparer.Ordinal);
}
