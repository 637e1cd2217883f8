using CsiHostPath.Os;

namespace CsiHostPath.UnitTests.Os;

public sealed class ProjectQuotaTests
{
    [Theory]
    [InlineData(1L << 20, 1024UL)]
    [InlineData(1, 1UL)]
    [InlineData(1025, 2UL)]
    public void QuotaFor_Bytes_IsAHardLimitInKibibytesRoundedUp(long bytes, ulong expectedBlocks)
    {
        var quota = LinuxProjectQuotas.QuotaFor(bytes);

        Assert.Equal(expectedBlocks, quota.BlockHardLimit);
        Assert.Equal(0UL, quota.BlockSoftLimit);
        Assert.Equal(1U, quota.Valid);
    }
}
