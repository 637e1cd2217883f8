using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Loop devices through the kernel's ioctls (loop(4)), so no losetup binary is needed.</summary>
public sealed class LinuxLoopDevices : ILoopDevices
{
    private const string Control = "/dev/loop-control";
    private const uint LoopMajor = 7;
    private const ulong LoopCtlGetFree = 0x4C82;
    private const ulong LoopConfigure = 0x4C0A;
    private const ulong LoopClrFd = 0x4C01;
    private const ulong LoopSetCapacity = 0x4C07;
    private const int MaxAttachAttempts = 16;

    // struct loop_config: fd, block_size, struct loop_info64 (232 bytes, lo_file_name at offset 56), 64 reserved bytes.
    private const int LoopConfigSize = 304;
    private const int FileNameOffset = 8 + 56;
    private const int FileNameLength = 64;

    public static bool IsSupported => File.Exists(Control);

    public string Attach(string imagePath)
    {
        using var image = Libc.OpenAt(null, imagePath, Libc.O_RDWR | Libc.O_NOFOLLOW);
        using var control = Libc.OpenAt(null, Control, Libc.O_RDWR);
        for (int attempt = 0; ; attempt++)
        {
            int number = Libc.Ioctl(control, LoopCtlGetFree, 0, Control);
            string device = DevicePath(number);
            // In a container /dev is often a private tmpfs where udev never creates the node for a new loop device.
            Libc.MkBlockDevice(device, LoopMajor, (uint)number, 0b110_000_000);
            try
            {
                using var loop = Libc.OpenAt(null, device, Libc.O_RDWR);
                Configure(loop, image, imagePath, device);
                return device;
            }
            catch (ErrnoException e) when (e.Errno == Errno.EBUSY && attempt < MaxAttachAttempts)
            {
                // Another process took the free device between GET_FREE and CONFIGURE: ask again.
            }
        }
    }

    private static unsafe void Configure(SafeFdHandle loop, SafeFdHandle image, string imagePath, string device)
    {
        byte* config = stackalloc byte[LoopConfigSize];
        new Span<byte>(config, LoopConfigSize).Clear();
        bool added = false;
        try
        {
            image.DangerousAddRef(ref added);
            *(uint*)config = (uint)image.Fd;
            var name = System.Text.Encoding.UTF8.GetBytes(imagePath);
            name.AsSpan(0, Math.Min(name.Length, FileNameLength - 1)).CopyTo(new Span<byte>(config + FileNameOffset, FileNameLength));
            Libc.Ioctl(loop, LoopConfigure, (nint)config, device);
        }
        finally
        {
            if (added)
                image.DangerousRelease();
        }
    }

    public string? Find(string imagePath)
    {
        if (!Directory.Exists("/sys/block"))
            return null;
        foreach (var block in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            string device = "/dev/" + Path.GetFileName(block);
            if (BackingFile(device) == imagePath)
                return device;
        }
        return null;
    }

    public string? BackingFile(string devicePath)
    {
        string sys = Path.Combine("/sys/block", Path.GetFileName(devicePath), "loop", "backing_file");
        try
        {
            return File.ReadAllText(sys).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Detach(string devicePath)
    {
        using var loop = Libc.OpenAt(null, devicePath, Libc.O_RDONLY);
        try
        {
            Libc.Ioctl(loop, LoopClrFd, 0, devicePath);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENXIO)
        {
            // Already detached.
        }
    }

    public void Refresh(string devicePath)
    {
        using var loop = Libc.OpenAt(null, devicePath, Libc.O_RDONLY);
        Libc.Ioctl(loop, LoopSetCapacity, 0, devicePath);
    }

    private static string DevicePath(int number) => $"/dev/loop{number}";
}
