namespace CsiHostPath.DeployTests.Infrastructure;

public sealed class KindNode
{
    public string? Role { get; set; }
}
