using k8s;

namespace CsiHostPath.E2ETests;

/// <summary>The cluster under test, reached through the kubeconfig the environment names.</summary>
public static class Cluster
{
    public const string KubeconfigVariable = "CSI_HOSTPATH_KUBECONFIG";

    public static string? KubeconfigPath => Environment.GetEnvironmentVariable(KubeconfigVariable) is { Length: > 0 } path ? path : null;

    public static Kubernetes Connect() =>
        new(KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath ?? throw new InvalidOperationException(KubeconfigVariable + " is not set")));

    /// <summary>A file under deploy/, found above the test's output directory.</summary>
    public static string DeployFile(string relativePath)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CsiHostPath.sln")))
            dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("no CsiHostPath.sln above " + AppContext.BaseDirectory), "deploy", relativePath);
    }
}
