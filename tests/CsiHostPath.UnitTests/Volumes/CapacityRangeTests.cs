using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class CapacityRangeTests
{
    [Theory]
    [InlineData(0, 0, 100)]
    [InlineData(10, 0, 10)]
    [InlineData(0, 50, 50)]
    [InlineData(0, 500, 100)]
    [InlineData(10, 10, 10)]
    public void Resolve_ValidRange_GivesRequiredElseDefaultCappedByLimit(long required, long limit, long expected)
    {
        Assert.Equal(expected, new CapacityRange(required, limit).Resolve(defaultBytes: 100));
    }

    [Fact]
    public void Resolve_RequiredAboveLimit_ThrowsOutOfRange()
    {
        Assert.Throws<CapacityOutOfRangeException>(() => new CapacityRange(20, 10).Resolve(100));
    }

    [Fact]
    public void Resolve_Negative_ThrowsInvalidArgument()
    {
        var error = Assert.Throws<InvalidVolumeArgumentException>(() => new CapacityRange(-1, 0).Resolve(100));
        Assert.Equal("capacity_range", error.Field);
    }

    [Theory]
    [InlineData(0, 0, 5, true)]
    [InlineData(10, 0, 5, false)]
    [InlineData(0, 4, 5, false)]
    [InlineData(5, 5, 5, true)]
    public void Allows_ExistingSize_MatchesBounds(long required, long limit, long size, bool expected)
    {
        Assert.Equal(expected, new CapacityRange(required, limit).Allows(size));
    }
}
