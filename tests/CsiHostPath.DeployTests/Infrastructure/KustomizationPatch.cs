namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>One entry of a kustomization's patches: a file or an inline patch, and the objects it applies to.</summary>
public sealed class KustomizationPatch
{
    public string? Path { get; set; }

    public string? Patch { get; set; }

    public KustomizationPatchTarget? Target { get; set; }
}
