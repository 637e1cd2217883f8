using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Bind mounts and the kernel's mount table: the only mount operations the driver needs.</summary>
public interface IMounter
{
    /// <summary>Bind-mounts the already-opened directory (or device node) onto <paramref name="targetPath"/>, a directory (or file).</summary>
    void BindMount(SafeFdHandle source, string targetPath, MountFlags flags);

    /// <summary>Mounts the filesystem on <paramref name="device"/> at <paramref name="targetPath"/>.</summary>
    void Mount(string device, string targetPath, string fsType, MountFlags flags, string? options = null);

    /// <summary>Unmounts the mount on <paramref name="targetPath"/>; false if nothing was mounted there.</summary>
    bool Unmount(string targetPath);

    /// <summary>Whether <paramref name="path"/> is the root of a mount: one statx(2), not a read of the whole mount table.</summary>
    bool IsMountPoint(string path);

    /// <summary>The topmost mount whose root <paramref name="path"/> is (its last component not followed), or null when it is none or missing.</summary>
    MountedRoot? MountedAt(string path);

    IReadOnlyList<MountInfo> ListMounts();

    /// <summary>
    /// The topmost mount at <paramref name="path"/> as mountinfo would show it, or null when nothing is mounted there:
    /// asked of that one mount where the kernel can (statmount), else found in the whole table. Its Root and Source are
    /// not asked for and are empty.
    /// </summary>
    MountInfo? FindMount(string path);
}
