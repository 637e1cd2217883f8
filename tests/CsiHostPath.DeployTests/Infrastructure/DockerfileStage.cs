namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>One FROM and the instructions up to the next.</summary>
public sealed class DockerfileStage(string from)
{
    /// <summary>The FROM line's arguments, e.g. "mcr.microsoft.com/dotnet/sdk:10.0 AS build".</summary>
    public string From { get; } = from;

    public string BaseImage => From.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];

    public List<(string Keyword, string Arguments)> Instructions { get; } = [];

    public IEnumerable<string> All(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);
}
