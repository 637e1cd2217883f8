using System.Globalization;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// Whether a mounted image filesystem still works, from what the kernel says of it: a failed filesystem still
/// mounts, lists and often stats fine while every write fails.
/// </summary>
public static class FileSystemHealth
{
    /// <summary>What is wrong with the filesystem of <paramref name="device"/> mounted as <paramref name="mount"/>, or null.</summary>
    public static string? Problem(MountInfo mount, string device)
    {
        try
        {
            // A shut-down xfs fails both with EIO.
            Libc.Lstat(mount.MountPoint);
            FileSystemStats.Of(mount.MountPoint);
        }
        catch (IOException e)
        {
            return $"the filesystem at {mount.MountPoint} fails: {e.Message}";
        }
        var superOptions = mount.SuperOptions.Split(',');
        if (superOptions.Contains("shutdown"))
            return $"the filesystem on {device} has been shut down: every write fails";
        if (mount.IsReadOnly || superOptions.Contains("ro"))
            return $"the filesystem at {mount.MountPoint} has become read-only, which the driver never asks for: the kernel does so after errors";
        return mount.FsType == "ext4" ? Ext4Errors(device) : null;
    }

    /// <summary>ext4 counts the errors it has met in its superblock, and shows the count under /sys/fs/ext4.</summary>
    private static string? Ext4Errors(string device)
    {
        string sys = Path.Combine("/sys/fs/ext4", Path.GetFileName(device));
        try
        {
            long errors = long.Parse(File.ReadAllText(Path.Combine(sys, "errors_count")).Trim(), CultureInfo.InvariantCulture);
            if (errors == 0)
                return null;
            string function = File.ReadAllText(Path.Combine(sys, "last_error_func")).Trim();
            return $"ext4 on {device} has met {errors} errors (the last in {function}); unpublish the volume and run e2fsck on its image";
        }
        catch (IOException)
        {
            return null;
        }
    }
}
