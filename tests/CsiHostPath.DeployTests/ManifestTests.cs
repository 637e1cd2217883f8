using CsiHostPath.DeployTests.Infrastructure;
using k8s.Models;

namespace CsiHostPath.DeployTests;

/// <summary>Every file under deploy/ is valid as written and every kustomization renders, as `kubectl apply -k` needs.</summary>
public sealed class ManifestTests
{
    public static TheoryData<string> YamlFiles() => [.. Repository.YamlFiles()];

    public static TheoryData<string> Kustomizations() => [.. Repository.Kustomizations()];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void YamlFile_LoadedStrictly_HasOnlyKnownFields(string file)
    {
        var objects = Manifests.LoadFile(file);

        Assert.NotEmpty(objects);
    }

    [Fact]
    public void LoadStrict_MisspeltField_Fails()
    {
        const string misspelt = """
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata:
              name: x
            provisioner: hostpath.csihostpath.dev
            reclaimPolicey: Retain
            """;

        Assert.ThrowsAny<Exception>(() => Manifests.LoadStrict(misspelt));
    }

    [Fact]
    public void LoadStrict_MisspeltKustomizationField_Fails()
    {
        const string misspelt = """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resource:
              - daemonset.yaml
            """;

        Assert.ThrowsAny<Exception>(() => Manifests.LoadStrict(misspelt));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Kustomization_Rendered_LoadsStrictly(string kustomization)
    {
        var rendered = await Manifests.RenderAsync(kustomization);

        Assert.NotEmpty(rendered.Objects);
        Assert.All(rendered.Objects, o => Assert.IsAssignableFrom<k8s.IKubernetesObject<V1ObjectMeta>>(o));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Readme_Kustomization_IsNamed(string kustomization)
    {
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));

        Assert.Contains("deploy/" + kustomization, readme, StringComparison.Ordinal);
    }
}
