using CsiHostPath.Cli;

namespace CsiHostPath.UnitTests.Cli;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("45", 45_000)]
    [InlineData("1.5s", 1_500)]
    public void Parses_TheSidecarsFormsAndPlainSeconds(string text, long milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5x")]
    [InlineData("-3s")]
    [InlineData("s")]
    [InlineData("1m30s")]
    public void Refuses_WhatIsNotADuration(string text) => Assert.False(Durations.TryParse(text, out _));
}
