namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>helm, for `helm lint` and `helm template` of deploy/helm/csi-hostpath. tests/run installs it.</summary>
public static class Helm
{
    /// <summary>The release name and namespace the README's `helm install` uses.</summary>
    public const string Release = "csi-hostpath";
    public const string Namespace = "csi-hostpath";

    public static string Path { get; } = ToolPath.Find("helm", "the deploy tests lint and render the Helm chart");

    public static string Chart => System.IO.Path.Combine(Repository.Deploy, "helm", "csi-hostpath");

    public static Task<string> LintAsync(params string[] setValues) =>
        Command.RunAsync(Path, ["lint", "--strict", Chart, .. SetArguments(setValues)]);

    /// <summary>What `helm install` would send, with each of <paramref name="setValues"/> passed as --set.</summary>
    public static Task<string> TemplateAsync(params string[] setValues) =>
        Command.RunAsync(Path, ["template", Release, Chart, "--namespace", Namespace, .. SetArguments(setValues)]);

    private static IEnumerable<string> SetArguments(string[] setValues) => setValues.SelectMany(v => new[] { "--set", v });
}
