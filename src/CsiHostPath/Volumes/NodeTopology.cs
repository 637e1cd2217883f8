using CsiHostPath.Options;

namespace CsiHostPath.Volumes;

/// <summary>This node's one topology segment; a volume is accessible here and nowhere else.</summary>
public sealed class NodeTopology(DriverOptions options)
{
    public string Key { get; } = options.TopologyKey;

    public string NodeId { get; } = options.NodeId;

    public IDictionary<string, string> Segments => new Dictionary<string, string> { [Key] = NodeId };

    /// <summary>
    /// Whether a volume here satisfies the requisite topologies (any one of them, per CSI); none given means anywhere.
    /// Preferred topologies only order choices among nodes, and this driver has one.
    /// </summary>
    public bool SatisfiesRequisite(IReadOnlyList<IReadOnlyDictionary<string, string>> requisite) =>
        requisite.Count == 0 || requisite.Any(Matches);

    private bool Matches(IReadOnlyDictionary<string, string> topology) =>
        topology.All(segment => segment.Key == Key && segment.Value == NodeId);
}
