namespace CsiHostPath.DeployTests.Infrastructure;

/// <summary>A Dockerfile read as its stages of instructions (continuation lines joined, comments dropped).</summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerfileStage> stages) => Stages = stages;

    public IReadOnlyList<DockerfileStage> Stages { get; }

    public DockerfileStage Final => Stages[^1];

    public static Dockerfile Load(string path)
    {
        var stages = new List<DockerfileStage>();
        string pending = "";
        foreach (var rawLine in File.ReadLines(path))
        {
            string line = rawLine.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
                continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            string instruction = pending + line;
            pending = "";
            int space = instruction.IndexOf(' ');
            string keyword = instruction[..space].ToUpperInvariant();
            string arguments = instruction[(space + 1)..].Trim();
            if (keyword == "FROM")
                stages.Add(new DockerfileStage(arguments));
            else if (stages.Count == 0)
                throw new FormatException($"{keyword} before the first FROM in {path}");
            else
                stages[^1].Instructions.Add((keyword, arguments));
        }
        return new Dockerfile(stages);
    }
}
