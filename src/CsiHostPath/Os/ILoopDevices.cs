namespace CsiHostPath.Os;

/// <summary>Loop devices that expose an image file as a block device, each capped at a given size.</summary>
public interface ILoopDevices
{
    /// <summary>Attaches <paramref name="imagePath"/> to a free loop device no larger than <paramref name="sizeLimit"/>; returns the device path.</summary>
    string Attach(string imagePath, long sizeLimit);

    /// <summary>
    /// Every attached loop device by the identity of its backing file, from one pass over /sys/block. Identities,
    /// unlike the backing file's path, read the same from every mount namespace.
    /// </summary>
    ILookup<FileIdentity, string> Scan();

    /// <summary>The identity of the file backing <paramref name="devicePath"/>, or null when it is not attached.</summary>
    FileIdentity? Backing(string devicePath);

    /// <summary>The device's size in bytes.</summary>
    long Size(string devicePath);

    /// <summary>
    /// Detaches the device, or throws an EBUSY <see cref="Interop.ErrnoException"/> and leaves it attached when something
    /// else holds it: a mount in another mount namespace, a process with the device open.
    /// </summary>
    void Detach(string devicePath);

    /// <summary>
    /// Makes writes through the device fail (BLKROSET), or succeed again, for everyone who uses it: a read-only bind
    /// of a device node still lets its opener write to the device.
    /// </summary>
    void SetReadOnly(string devicePath, bool readOnly);

    /// <summary>Caps the device at <paramref name="sizeLimit"/> and makes it see its image file's size within that cap.</summary>
    void Resize(string devicePath, long sizeLimit);
}
