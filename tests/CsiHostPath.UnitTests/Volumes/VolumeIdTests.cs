using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeIdTests
{
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
