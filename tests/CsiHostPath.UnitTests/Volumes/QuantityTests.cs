using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

/// <summary>Values as k8s.io/apimachinery's resource.ParseQuantity(...).Value() gives them (quantity_test.go's table).</summary>
public sealed class QuantityTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("1073741824", 1073741824)]
    [InlineData("64Mi", 64L << 20)]
    [InlineData("1Gi", 1L << 30)]
    [InlineData("10Gi", 10L << 30)]
    [InlineData("1.5Gi", 3L << 29)]
    [InlineData("1Ki", 1024)]
    [InlineData("2Ti", 2L << 40)]
    [InlineData("1Pi", 1L << 50)]
    [InlineData("1Ei", 1L << 60)]
    [InlineData("500M", 500_000_000)]
    [InlineData("1G", 1_000_000_000)]
    [InlineData("1k", 1000)]
    [InlineData("1500m", 2)]
    [InlineData("1e9", 1_000_000_000)]
    [InlineData("1E3", 1000)]
    [InlineData("+5", 5)]
    [InlineData(".5Ki", 512)]
    [InlineData("0.1", 1)]
    [InlineData("2T", 2_000_000_000_000)]
    [InlineData("3P", 3_000_000_000_000_000)]
    [InlineData("1E", 1_000_000_000_000_000_000)]
    [InlineData("1e18", 1_000_000_000_000_000_000)]
    [InlineData("5e-1", 1)]
    [InlineData("1e-18", 1)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", 1)]
    public void TryParseBytes_Quantity_GivesBytesRoundedUp(string text, long expected)
    {
        Assert.True(Quantity.TryParseBytes(text, out long bytes), text);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Mi")]
    [InlineData("64MB")]
    [InlineData("64mi")]
    [InlineData("1 Gi")]
    [InlineData(" 1Gi")]
    [InlineData("-1Gi")]
    [InlineData("1.2.3")]
    [InlineData(".")]
    [InlineData("1e")]
    [InlineData("1e1.5")]
    [InlineData("1e400")]
    [InlineData("8Ei")]
    [InlineData("99999999999999999999")]
    [InlineData("0x10")]
    [InlineData("1Gi ")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("1e-19")]
    [InlineData("9223372036854775808")]
    public void TryParseBytes_NotAByteQuantity_False(string text)
    {
        Assert.False(Quantity.TryParseBytes(text, out _), text);
    }
}
