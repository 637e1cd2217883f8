using System.Text.Json;
using System.Text.RegularExpressions;
using CsiHostPath.DeployTests.Infrastructure;
using CsiHostPath.Testing;

namespace CsiHostPath.DeployTests;

/// <summary>
/// The Dockerfile, read statically: no Docker engine runs on the build machines, so the image itself cannot be
/// built here. What can drift is checked against the project: the binary's name, the publish mode, and the flags
/// the DaemonSet passes to the image's entrypoint.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly Dockerfile Image = Dockerfile.Load(Path.Combine(Repository.Root, "Dockerfile"));

    [Fact]
    public void Dockerfile_BuildsInTheSdkAndRunsWithoutIt()
    {
        Assert.True(Image.Stages.Count >= 2, "expected a multi-stage build");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", Image.Stages[0].BaseImage, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet", Image.Final.BaseImage, StringComparison.Ordinal);
        Assert.All(Image.Final.All("RUN"), run => Assert.DoesNotContain("dotnet", run, StringComparison.Ordinal));
        Assert.All(Image.Final.All("RUN"), run => Assert.DoesNotMatch(@"\b(clang|gcc|build-essential|zlib1g-dev)\b", run));
    }

    [Fact]
    public void Dockerfile_PublishesNativeAotForLinux()
    {
        string publish = Assert.Single(Image.Stages[0].All("RUN"), r => r.StartsWith("dotnet publish", StringComparison.Ordinal));

        Assert.Contains("src/CsiHostPath", publish, StringComparison.Ordinal);
        Assert.Contains("-r linux-x64", publish, StringComparison.Ordinal);
        Assert.Contains("-p:PublishAot=true", publish, StringComparison.Ordinal);
        Assert.Contains(Image.Stages[0].All("RUN"), r => r.Contains("clang", StringComparison.Ordinal) && r.Contains("zlib1g-dev", StringComparison.Ordinal));
    }

    [Fact]
    public void Entrypoint_IsTheDriverBinaryCopiedFromTheBuild()
    {
        string[] entrypoint = JsonSerializer.Deserialize<string[]>(Assert.Single(Image.Final.All("ENTRYPOINT")))!;
        string binary = Assert.Single(entrypoint);

        Assert.Equal(Repository.DriverAssemblyName, Path.GetFileName(binary));
        Assert.Contains(Image.Final.All("COPY"), copy => copy.StartsWith("--from=", StringComparison.Ordinal) && copy.EndsWith(" " + binary, StringComparison.Ordinal));
    }

    [Fact]
    public void FinalStage_InstallsTheFilesystemToolsAndIsLabelled()
    {
        string install = string.Join(' ', Image.Final.All("RUN"));
        string labels = string.Join(' ', Image.Final.All("LABEL"));

        // e2fsprogs: mkfs.ext4, resize2fs; xfsprogs: mkfs.xfs, xfs_growfs (Os/FileSystemTools runs them for image volumes).
        Assert.All(new[] { "util-linux", "e2fsprogs", "xfsprogs", "--no-install-recommends", "rm -rf /var/lib/apt/lists" }, word => Assert.Contains(word, install, StringComparison.Ordinal));
        Assert.Contains("org.opencontainers.image.title=", labels, StringComparison.Ordinal);
        Assert.Contains($"org.opencontainers.image.version=\"{Repository.DriverVersion}\"", labels, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DaemonSet_DriverArgs_AreFlagsTheBinaryAccepts()
    {
        var rendered = await Manifests.RenderAsync("base");
        var driver = rendered.Container(RenderedManifests.DriverContainer);
        var accepted = FlagPattern().Matches(await Command.RunAsync(DriverProcess.ExecutablePath, "--help")).Select(m => m.Value).ToHashSet();

        // No command: the container runs the image's ENTRYPOINT with these arguments.
        Assert.Null(driver.Command);
        Assert.NotEmpty(driver.Args);
        Assert.All(driver.Args, arg => Assert.Contains(arg.Split('=')[0], accepted));
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputAndGitOutOfTheContext()
    {
        var ignored = File.ReadAllLines(Path.Combine(Repository.Root, ".dockerignore"));

        Assert.All(new[] { "**/bin/", "**/obj/", ".git/" }, entry => Assert.Contains(entry, ignored));
        Assert.DoesNotContain(ignored, line => line.TrimEnd('/') is "src" or "proto" or "src/CsiHostPath");
    }

    [GeneratedRegex(@"--[a-z][a-z-]+")]
    private static partial Regex FlagPattern();
}
