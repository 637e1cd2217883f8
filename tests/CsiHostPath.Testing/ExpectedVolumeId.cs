using System.Security.Cryptography;
using System.Text;

namespace CsiHostPath.Testing;

/// <summary>
/// The id the driver gives a volume of a given name (a SHA-256 prefix of the name, then a tag of the node), worked out
/// independently of the driver's code: a test that crashed the driver before it answered still knows which volume it asked for.
/// </summary>
public static class ExpectedVolumeId
{
    public static string For(string name, string nodeId = DriverProcess.NodeId) => Hex(name)[..32] + "-" + Hex(nodeId)[..8];

    private static string Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
