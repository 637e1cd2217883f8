using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

/// <summary>
/// Ids are the data dir's directory names and what Kubernetes stores as each PV's volumeHandle: a change of hash
/// would orphan every existing volume and make a retried CreateVolume create a second one.
/// </summary>
public sealed class VolumeIdTests
{
    // Taken from CreateVolume answers of the driver at bfb8b77, the last build with the hand-written SHA-256.
    [Theory]
    [InlineData("pvc-1", "f2868e1aa7cab669517cd9f5ab1b7957")]
    [InlineData("a", "ca978112ca1bbdcafac231b39a23dc4d")]
    [InlineData("pvc-0b9c5e04-3b1f-4d2c-9d1e-6f0b1c2d3e4f", "4150422092a4306749d05fcab5554586")]
    [InlineData("volumé-ü-日本", "79d203ef7c418fecbdd6caac6d571f10")]
    [InlineData("pvc-upgrade-directory", "4e29010feb00085b6116702708c5feb5")]
    [InlineData("pvc-upgrade-image", "872e7eb03ba6ea34aabe4c587779e7d8")]
    [InlineData("pvc-upgrade-block", "7b8b15b62778623990bf2a60b6573f67")]
    public void FromName_NamesTheEarlierDriverAnswered_GivesTheSameIds(string name, string id) =>
        Assert.Equal(id, VolumeId.FromName(name));

    [Fact]
    public void FromName_128CharacterName_GivesTheSameIdAsTheEarlierDriver() =>
        Assert.Equal("dd2411b970d6f3272b9824bdc649c6d7", VolumeId.FromName(new string('n', 128)));

    // Tagged ids (issued since b752724) hash the node id the same way; computed with Python's hashlib.
    [Fact]
    public void FromName_WithNode_GivesTheSameTaggedId() =>
        Assert.Equal("f2868e1aa7cab669517cd9f5ab1b7957-696ae930", VolumeId.FromName("pvc-1", "kind-worker"));

    // Quota project ids hash the volume id too (computed with an independent SHA-256, Python's hashlib).
    [Theory]
    [InlineData("f2868e1aa7cab669517cd9f5ab1b7957", 2098109468u)]
    [InlineData("4e29010feb00085b6116702708c5feb5", 462266529u)]
    public void ProjectIdFor_KnownVolumeIds_GivesTheSameProjectIds(string volumeId, uint projectId) =>
        Assert.Equal(projectId, ProjectId.For(volumeId, _ => false));

    [Fact]
    public void FromName_WithNode_NamesItsNodeAndKeepsTheNameHash()
    {
        string id = VolumeId.FromName("pvc-1", "kind-worker");

        Assert.StartsWith(VolumeId.FromName("pvc-1") + "-", id, StringComparison.Ordinal);
        Assert.Equal(VolumeId.NodeTag("kind-worker"), VolumeId.CreatorTag(id));
        Assert.NotEqual(VolumeId.NodeTag("kind-worker2"), VolumeId.CreatorTag(id));
        Assert.True(VolumeId.IsWellFormed(id));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("fake-volume-id")]
    [InlineData("0123456789abcdef0123456789abcdef-0123456")]
    [InlineData("0123456789abcdef0123456789abcdef_01234567")]
    [InlineData("0123456789abcdef0123456789abcdeF-01234567")]
    public void CreatorTag_UntaggedOrForeignId_None(string id)
    {
        Assert.Null(VolumeId.CreatorTag(id));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789abcdef0123456789abcdef-01234567", true)]
    [InlineData("0123456789abcdef0123456789abcdef-0123456g", false)]
    [InlineData("0123456789abcdef0123456789abcde", false)]
    [InlineData("../../etc", false)]
    public void IsWellFormed_BothShapesThisDriverIssues(string id, bool expected)
    {
        Assert.Equal(expected, VolumeId.IsWellFormed(id));
    }
}
