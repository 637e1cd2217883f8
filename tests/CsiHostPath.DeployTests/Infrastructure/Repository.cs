namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>Paths in the source tree: the tests read deploy/, the Dockerfile and the driver's csproj where they are checked in.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    /// <summary>Every directory under deploy/ with a kustomization.yaml, relative to deploy/.</summary>
    public static IEnumerable<string> Kustomizations() =>
        Directory.EnumerateFiles(Deploy, "kustomization.yaml", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(Deploy, Path.GetDirectoryName(file)!))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Every YAML manifest under deploy/, relative to deploy/; not the Helm chart's files, which are templates and chart
    /// metadata that only `helm template` turns into manifests (HelmChartTests reads those).
    /// </summary>
    public static IEnumerable<string> YamlFiles() =>
        Directory.EnumerateFiles(Deploy, "*.*", SearchOption.AllDirectories)
            .Where(file => file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(Deploy, file))
            .Where(file => !file.StartsWith("helm/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>The driver's &lt;Version&gt;, which also tags its image.</summary>
    public static string DriverVersion => CsprojProperty("Version");

    /// <summary>The driver's &lt;AssemblyName&gt;: the executable's name.</summary>
    public static string DriverAssemblyName => CsprojProperty("AssemblyName");

    private static string CsprojProperty(string name)
    {
        var project = System.Xml.Linq.XDocument.Load(Path.Combine(Root, "src", "CsiHostPath", "CsiHostPath.csproj"));
        return project.Descendants(name).Single().Value;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CsiHostPath.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("no CsiHostPath.sln above " + AppContext.BaseDirectory);
    }
}
