namespace CsiHostPath.Volumes;

/// <summary>The target_path kubelet names: a directory for a mount volume, a file for a block volume.</summary>
public static class PublishTarget
{
    /// <summary>Creates the target (kubelet has made its parent); false if it was already there.</summary>
    public static bool Ensure(string targetPath, AccessType accessType)
    {
        var info = new FileInfo(targetPath);
        if (info.LinkTarget is not null)
            throw new InvalidVolumeArgumentException("target_path", $"{targetPath} is a symlink");
        bool isDirectory = Directory.Exists(targetPath);
        if (accessType == AccessType.Mount)
        {
            if (isDirectory)
                return false;
            if (info.Exists)
                throw new InvalidVolumeArgumentException("target_path", $"{targetPath} exists and is not a directory");
            Directory.CreateDirectory(targetPath);
            return true;
        }
        if (isDirectory)
        {
            // Some COs pre-create a directory even for block; an empty one can be replaced by the file we need.
            Directory.Delete(targetPath);
        }
        else if (info.Exists)
        {
            return false;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(targetPath)!);
        using (File.Create(targetPath))
        {
        }
        return true;
    }

    /// <summary>Removes an unmounted target: an empty directory or the placeholder file; never a symlink's target.</summary>
    public static void Remove(string targetPath)
    {
        var info = new FileInfo(targetPath);
        if (info.LinkTarget is not null)
            return;
        if (Directory.Exists(targetPath))
            Directory.Delete(targetPath);
        else if (info.Exists && info.Length == 0)
            File.Delete(targetPath);
    }
}
