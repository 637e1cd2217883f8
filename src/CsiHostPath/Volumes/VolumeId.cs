using System.Text;

namespace CsiHostPath.Volumes;

/// <summary>
/// Volume ids are derived from the volume name, so a CreateVolume retried after a crash finds the same
/// volume, and a lock on the id also serialises calls that only know the name.
/// </summary>
public static class VolumeId
{
    public const int Length = 32;

    public static string FromName(string name) =>
        Convert.ToHexStringLower(Sha256.HashData(Encoding.UTF8.GetBytes(name)))[..Length];

    /// <summary>True for the shape of id this driver issues (also used for ListVolumes tokens).</summary>
    public static bool IsWellFormed(string id) =>
        id.Length == Length && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
