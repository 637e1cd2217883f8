namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>kubectl's built-in kustomize, the one `kubectl apply -k` uses. tests/run installs kubectl where the machine lacks it.</summary>
public static class Kubectl
{
    public static string Path { get; } = ToolPath.Find("kubectl", "the deploy tests render deploy/ with `kubectl kustomize`");

    public static Task<string> KustomizeAsync(string directory) => Command.RunAsync(Path, "kustomize", directory);
}
