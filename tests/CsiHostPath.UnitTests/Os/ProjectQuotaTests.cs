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

    [Fact]
    public void UsageOf_ReadsCurrentSpaceInBytesAndCurrentInodes()
    {
        var quota = new CsiHostPath.Interop.Libc.DiskQuota { BlockHardLimit = 1024, CurrentSpace = 812_000_256, CurrentInodes = 200_001 };

        Assert.Equal(new DiskUsage(812_000_256, 200_001), LinuxProjectQuotas.UsageOf(quota));
    }

    [Fact]
    public void GetQuotaCommand_IsQcmdOfQGetQuotaAndPrjQuota()
    {
        // QCMD(Q_GETQUOTA, PRJQUOTA) = (0x800007 << 8) | 2, as linux/quota.h computes it.
        Assert.Equal(0x80000702u, CsiHostPath.Interop.Libc.ProjectQuotaCommand(CsiHostPath.Interop.Libc.Q_GETQUOTA));
    }
}
