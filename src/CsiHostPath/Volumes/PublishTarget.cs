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
        // kubelet makes the parent before it publishes (csi_mounter.go SetUpAt and csi_block.go publishVolumeForBlock
        // both MkdirAll it). Missing here, it is missing from the driver's view: kubelet's pods or plugins dir is not
        // mounted into the driver's container, and a parent made here would hold a mount the host never sees.
        string parent = Path.GetDirectoryName(targetPath)!;
        if (!Directory.Exists(parent))
            throw new VolumePreconditionException(
                $"the parent of target_path, {parent}, does not exist: kubelet creates it before publishing, so the driver cannot see " +
                "kubelet's directory there (are <kubelet dir>/pods and <kubelet dir>/plugins mounted into the driver's container?)");
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
