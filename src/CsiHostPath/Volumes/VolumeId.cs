using System.Security.Cryptography;
using System.Text;

namespace CsiHostPath.Volumes;

/// <summary>
/// Volume ids are derived from the volume name, so a CreateVolume retried after a crash finds the same
/// volume, and a lock on the id also serialises calls that only know the name. They end with a tag of the node
/// that made them: csi-resizer runs on every node and asks each node's driver about every volume, and the tag lets
/// a node tell a volume of another node from one that exists nowhere. Ids issued before the tag have none.
/// </summary>
public static class VolumeId
{
    public const int Length = 32;

    private const int NodeTagLength = 8;
    private const char NodeTagSeparator = '-';

    /// <summary>The untagged id, as issued before ids named their node.</summary>
    public static string FromName(string name) => Hex(name)[..Length];

    public static string FromName(string name, string nodeId) => FromName(name) + NodeTagSeparator + NodeTag(nodeId);

    public static string NodeTag(string nodeId) => Hex(nodeId)[..NodeTagLength];

    /// <summary>The tag of the node that issued <paramref name="id"/>; null for an untagged id or one this driver did not issue.</summary>
    public static string? CreatorTag(string id) =>
        IsWellFormed(id) && id.Length > Length ? id[(Length + 1)..] : null;

    /// <summary>True for the shapes of id this driver issues, tagged or not (also used for ListVolumes tokens).</summary>
    public static bool IsWellFormed(string id) =>
        (id.Length == Length || (id.Length == Length + 1 + NodeTagLength && id[Length] == NodeTagSeparator))
        && id.Where((c, i) => i != Length).All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static string Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
