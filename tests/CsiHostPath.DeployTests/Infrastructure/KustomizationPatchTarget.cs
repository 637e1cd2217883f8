namespace CsiHostPath.DeployTests.Infrastructure;

public sealed class KustomizationPatchTarget
{
    public string? Kind { get; set; }

    public string? Name { get; set; }
}
