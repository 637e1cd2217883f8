using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// The figures a suite measured, to the test output and appended to a results file
/// ($CHP_RESULTS_FILE, else reliability-results.txt beside the test assembly) that docs/reliability.md quotes.
/// </summary>
public static class Results
{
    private static readonly Lock FileLock = new();

    public static string FilePath =>
        Environment.GetEnvironmentVariable("CHP_RESULTS_FILE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "reliability-results.txt");

    public static void Report(ITestOutputHelper output, string suite, string figures)
    {
        string line = $"{DateTimeOffset.UtcNow:u} {suite}: {figures}";
        output.WriteLine(line);
        lock (FileLock)
            File.AppendAllText(FilePath, line + Environment.NewLine);
    }
}
