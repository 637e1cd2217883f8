using System.Security.Cryptography;
using System.Text;

namespace CsiHostPath.Testing;

/// <summary>
/// Directory volumes' records as the driver writes them, put straight on disk: for tests whose driver must find
/// records at start-up that creating them through it would take too long to make (or that the test holds).
/// </summary>
public static class VolumeRecordFiles
{
    /// <summary>Makes the data dir's folders and the volume's directory (without its data dir, which loading does not look at); returns where its record goes and the record.</summary>
    public static (string Path, string Json) DirectoryVolume(string dataDir, string name)
    {
        foreach (var dir in (string[])["volumes", ".staging", ".trash", "archived"])
            Directory.CreateDirectory(System.IO.Path.Combine(dataDir, dir));
        string id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32];
        string volume = System.IO.Path.Combine(dataDir, "volumes", id);
        Directory.CreateDirectory(volume);
        return (System.IO.Path.Combine(volume, "volume.json"),
            $$"""{"volumeId":"{{id}}","name":"{{name}}","capacityBytes":1048576,"parameters":{},"createdAt":"2026-12-01T12:00:00+00:00","backing":"Directory","accessType":"Mount","fsType":"","onDelete":"Delete","projectId":0,"publications":[]}""");
    }

    /// <summary>
    /// As <see cref="DirectoryVolume"/>, with the record a FIFO that has no writer yet: a driver starting over the data
    /// dir cannot finish loading its records until the test writes Json into it.
    /// </summary>
    public static (string Path, string Json) HeldDirectoryVolume(string dataDir, string name)
    {
        var (path, json) = DirectoryVolume(dataDir, name);
        LoopFileSystem.Run("mkfifo", path);
        return (path, json);
    }
}
