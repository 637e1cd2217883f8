namespace CsiHostPath.Os;

/// <summary>Loop devices that expose an image file as a block device.</summary>
public interface ILoopDevices
{
    /// <summary>Attaches <paramref name="imagePath"/> to a free loop device and returns the device path.</summary>
    string Attach(string imagePath);

    /// <summary>The loop device already backed by <paramref name="imagePath"/>, or null.</summary>
    string? Find(string imagePath);

    /// <summary>The image file a loop device is backed by, or null if it is not attached.</summary>
    string? BackingFile(string devicePath);

    void Detach(string devicePath);

    /// <summary>Makes the device see its image file's new size.</summary>
    void Refresh(string devicePath);
}
