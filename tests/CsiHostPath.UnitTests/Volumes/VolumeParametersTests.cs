using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeParametersTests
{
    [Fact]
    public void Parse_Nothing_GivesDirectoryDeleteNoQuota()
    {
        Assert.Equal(new VolumeParameters(Backing.Directory, OnDelete.Delete, false), VolumeParameters.Parse(new Dictionary<string, string>()));
    }

    [Fact]
    public void Parse_EveryKnownKey_IsRead()
    {
        var parsed = VolumeParameters.Parse(new Dictionary<string, string>
        {
            ["backing"] = "directory",
            ["onDelete"] = "archive",
            ["quota"] = "true",
            [VolumeParameters.PvName] = "pvc-1",
        });

        Assert.Equal(new VolumeParameters(Backing.Directory, OnDelete.Archive, true), parsed);
    }

    [Theory]
    [InlineData("backing", "zfs", "zfs")]
    [InlineData("onDelete", "shred", "shred")]
    [InlineData("quota", "yes", "yes")]
    [InlineData("backng", "image", "unknown parameter 'backng'")]
    public void Parse_BadKeyOrValue_NamesIt(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidVolumeArgumentException>(() => VolumeParameters.Parse(new Dictionary<string, string> { [key] = value }));

        Assert.Equal("parameters", error.Field);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_QuotaOnImage_IsRefused()
    {
        var error = Assert.Throws<InvalidVolumeArgumentException>(() =>
            VolumeParameters.Parse(new Dictionary<string, string> { ["backing"] = "image", ["quota"] = "true" }));

        Assert.Contains("already enforced", error.Message);
    }
}
