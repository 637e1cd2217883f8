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

    private static IEnumerable<string> ScriptNames() =>
        Directory.EnumerateFiles(Path.Combine(Repository.Deploy, "kind"), "*.sh").Select(file => Path.GetFileName(file)).Order(StringComparer.Ordinal);
}
