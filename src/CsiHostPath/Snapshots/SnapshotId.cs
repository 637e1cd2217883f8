using System.Security.Cryptography;
using System.Text;
using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// Snapshot ids, like volume ids, are derived from the name, so a CreateSnapshot retried after a crash finds the same
/// snapshot and the lock on the id serialises calls on one name. The name is hashed with a prefix of its own, so a
/// snapshot and a volume of the same name get different ids and can share .staging/, .trash/ and the lock table.
/// </summary>
public static class SnapshotId
{
    public static string FromName(string name) => Derive("snapshot", name);

    /// <summary>The id of a volume group snapshot: the same scheme with the group's own prefix.</summary>
    public static string FromGroupName(string name) => Derive("group", name);

    /// <summary>The id of the member snapshot of group <paramref name="groupId"/> taken of <paramref name="volumeId"/>.</summary>
    public static string ForMember(string groupId, string volumeId) => Derive("member", groupId + "/" + volumeId);

    public static bool IsWellFormed(string id) => VolumeId.IsWellFormed(id);

    private static string Derive(string kind, string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(kind + "\0" + name)))[..VolumeId.Length];
}
