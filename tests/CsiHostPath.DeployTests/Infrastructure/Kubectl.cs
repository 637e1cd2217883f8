namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>kubectl's built-in kustomize, the one `kubectl apply -k` uses. tests/run installs kubectl where the machine lacks it.</summary>
public static class Kubectl
{
    public static string Path { get; } = Find();

    public static Task<string> KustomizeAsync(string directory) => Command.RunAsync(Path, "kustomize", directory);

    private static string Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(dir, "kubectl");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("kubectl is not on PATH: the deploy tests render deploy/ with `kubectl kustomize` (bash tests/run installs it)");
    }
}
