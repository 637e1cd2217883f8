using System.Runtime.InteropServices;

namespace CsiHostPath.Testing;

/// <summary>Reads the kernel's mount table, and detaches what a test left mounted.</summary>
public static partial class Mounts
{
    /// <summary>Mount points at or beneath <paramref name="root"/>, deepest (most recent) last, in this process's namespace or <paramref name="pid"/>'s.</summary>
    public static IReadOnlyList<string> Beneath(string root, int? pid = null)
    {
        var result = new List<string>();
        foreach (var line in File.ReadAllLines(pid is null ? "/proc/self/mountinfo" : $"/proc/{pid}/mountinfo"))
        {
            var fields = line.Split(' ');
            var mountPoint = Unescape(fields[4]);
            if (mountPoint == root || mountPoint.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
                result.Add(mountPoint);
        }
        return result;
    }

    public static bool IsMountPoint(string path) => Beneath(path).Contains(path);

    /// <summary>Mount points whose mounts are in a shared peer group (a "shared:N" optional field).</summary>
    public static IReadOnlyList<string> Shared() =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Skip(6).TakeWhile(f => f != "-").Any(f => f.StartsWith("shared:", StringComparison.Ordinal)))
            .Select(fields => Unescape(fields[4]))
            .ToList();

    /// <summary>The device number ("major:minor") of the filesystem mounted at <paramref name="mountPoint"/>, the topmost one.</summary>
    public static string DeviceOf(string mountPoint) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .LastOrDefault(fields => Unescape(fields[4]) == mountPoint)?[2]
        ?? throw new InvalidOperationException($"{mountPoint} is not a mount point");

    /// <summary>Whether the topmost mount at <paramref name="path"/> is read-only, in this process's namespace or <paramref name="pid"/>'s.</summary>
    public static bool IsReadOnlyMount(string path, int? pid = null) => OptionsOf(path, pid).Contains("ro");

    /// <summary>The per-mount options (mountinfo's sixth field) of the topmost mount at <paramref name="path"/>.</summary>
    public static IReadOnlyList<string> OptionsOf(string path, int? pid = null) =>
        File.ReadAllLines(pid is null ? "/proc/self/mountinfo" : $"/proc/{pid}/mountinfo")
            .Select(line => line.Split(' '))
            .LastOrDefault(fields => Unescape(fields[4]) == path)?[5].Split(',')
        ?? throw new InvalidOperationException($"{path} is not a mount point");

    /// <summary>The superblock options (mountinfo's last field) of the filesystem of the topmost mount at <paramref name="path"/>.</summary>
    public static string SuperOptionsOf(string path) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .LastOrDefault(fields => Unescape(fields[4]) == path)?[^1]
        ?? throw new InvalidOperationException($"{path} is not a mount point");

    /// <summary>How many mounts are stacked at <paramref name="path"/>.</summary>
    public static int CountAt(string path) => Beneath(path).Count(m => m == path);

    /// <summary>umount2 without MNT_DETACH, as an administrator or a reboot takes one mount away; throws if it fails.</summary>
    public static void Unmount(string path)
    {
        if (Umount2(path, 0) != 0)
            throw new IOException($"umount2({path}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public static void DetachAllBeneath(string root)
    {
        foreach (var mountPoint in Beneath(root).Reverse())
            Detach(mountPoint);
    }

    /// <summary>Lazily unmounts the topmost mount at <paramref name="mountPoint"/>, as a reboot would take it away.</summary>
    public static void Detach(string mountPoint) => _ = Umount2(mountPoint, 2 /* MNT_DETACH */);

    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);
}
