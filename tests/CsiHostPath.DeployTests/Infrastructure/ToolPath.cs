namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>A program on PATH, or an error that says why the deploy tests need it (tests/run installs both).</summary>
public static class ToolPath
{
    public static string Find(string program, string why)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"{program} is not on PATH: {why} (bash tests/run installs it)");
    }
}
