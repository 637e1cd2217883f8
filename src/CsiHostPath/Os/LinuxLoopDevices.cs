using System.Buffers.Binary;
using System.Globalization;
using CsiHostPath.Interop;
using CsiHostPath.Metrics;

namespace CsiHostPath.Os;

/// <summary>Loop devices through the kernel's ioctls (loop(4)), so no losetup binary is needed.</summary>
public sealed class LinuxLoopDevices : ILoopDevices
{
    private const string Control = "/dev/loop-control";
    private const string SysBlock = "/sys/block";
    private const ulong LoopCtlGetFree = 0x4C82;
    private const ulong LoopConfigure = 0x4C0A;
    private const ulong LoopClrFd = 0x4C01;
    private const ulong LoopSetStatus64 = 0x4C04;
    private const ulong LoopGetStatus64 = 0x4C05;
    private const ulong LoopSetCapacity = 0x4C07;
    private const ulong BlkGetSize64 = 0x80081272;
    private const ulong BlkRoSet = 0x125D;
    private const uint AutoClear = 4;
    private const int MaxAttachAttempts = 16;

    // struct loop_info64 (232 bytes) and struct loop_config: fd, block_size, a loop_info64, 64 reserved bytes.
    private const int InfoSize = 232;
    private const int DeviceOffset = 0;
    private const int InodeOffset = 8;
    private const int SizeLimitOffset = 32;
    private const int FlagsOffset = 52;
    private const int FileNameOffset = 56;
    private const int FileNameLength = 64;
    private const int ConfigSize = 304;
    private const int ConfigInfoOffset = 8;

    public static bool IsSupported => File.Exists(Control);

    public string Attach(string imagePath, long sizeLimit) =>
        DriverMeter.Counted(OsOperation.LoopAttach, () => AttachFree(imagePath, sizeLimit));

    private static string AttachFree(string imagePath, long sizeLimit)
    {
        using var image = Libc.OpenAt(null, imagePath, Libc.O_RDWR | Libc.O_NOFOLLOW);
        using var control = Libc.OpenAt(null, Control, Libc.O_RDWR);
        for (int attempt = 0; ; attempt++)
        {
            string device = $"/dev/loop{Libc.Ioctl(control, LoopCtlGetFree, 0, Control)}";
            try
            {
                using var loop = Open(device, Libc.O_RDWR);
                Configure(loop, image, imagePath, sizeLimit, device);
                // The read-only flag belongs to the device, not to an attachment: one left by its last user would
                // make this image's filesystem unmountable (EACCES).
                SetReadOnly(loop, readOnly: false, device);
                return device;
            }
            catch (ErrnoException e) when (e.Errno == Errno.EBUSY && attempt < MaxAttachAttempts)
            {
                // Another process took the free device between GET_FREE and CONFIGURE: ask again.
            }
        }
    }

    private static unsafe void Configure(SafeFdHandle loop, SafeFdHandle image, string imagePath, long sizeLimit, string device)
    {
        var config = new Span<byte>(new byte[ConfigSize]);
        var info = config.Slice(ConfigInfoOffset, InfoSize);
        BinaryPrimitives.WriteInt64LittleEndian(info[SizeLimitOffset..], sizeLimit);
        var name = System.Text.Encoding.UTF8.GetBytes(imagePath);
        name.AsSpan(0, Math.Min(name.Length, FileNameLength - 1)).CopyTo(info.Slice(FileNameOffset, FileNameLength));
        bool added = false;
        try
        {
            image.DangerousAddRef(ref added);
            BinaryPrimitives.WriteUInt32LittleEndian(config, (uint)image.Fd);
            fixed (byte* pointer = config)
                Libc.Ioctl(loop, LoopConfigure, (nint)pointer, device);
        }
        finally
        {
            if (added)
                image.DangerousRelease();
        }
    }

    public ILookup<FileIdentity, string> Scan()
    {
        var attached = new List<(FileIdentity Backing, string Device)>();
        if (Directory.Exists(SysBlock))
        {
            foreach (var block in Directory.EnumerateDirectories(SysBlock, "loop*"))
            {
                // Only attached devices have a loop/ group. One with autoclear set is never this driver's, and opening
                // and closing it while nobody else holds it would detach it from under its owner.
                string? autoclear = ReadSys(Path.Combine(block, "loop", "autoclear"));
                if (autoclear is null || autoclear == "1")
                    continue;
                string device = "/dev/" + Path.GetFileName(block);
                if (Backing(device) is { } identity)
                    attached.Add((identity, device));
            }
        }
        return attached.ToLookup(a => a.Backing, a => a.Device);
    }

    public FileIdentity? Backing(string devicePath)
    {
        try
        {
            using var loop = Open(devicePath, Libc.O_RDONLY);
            var info = GetStatus(loop, devicePath);
            // lo_device is the backing file's st_dev in the kernel's huge_encode_dev form.
            ulong device = BinaryPrimitives.ReadUInt64LittleEndian(info[DeviceOffset..]);
            uint major = (uint)((device & 0xfff00) >> 8);
            uint minor = (uint)((device & 0xff) | ((device >> 12) & 0xfff00));
            return new FileIdentity(major, minor, BinaryPrimitives.ReadUInt64LittleEndian(info[InodeOffset..]));
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENXIO or Errno.ENOENT)
        {
            return null;
        }
    }

    public unsafe long Size(string devicePath)
    {
        using var loop = Open(devicePath, Libc.O_RDONLY);
        ulong size;
        Libc.Ioctl(loop, BlkGetSize64, (nint)(&size), devicePath);
        return (long)size;
    }

    public void Detach(string devicePath) => DriverMeter.Counted(OsOperation.LoopDetach, () => DetachOnce(devicePath));

    private static void DetachOnce(string devicePath)
    {
        SafeFdHandle loop;
        try
        {
            // O_EXCL fails with EBUSY while a filesystem is mounted from the device in any mount namespace.
            loop = Open(devicePath, Libc.O_RDONLY | Libc.O_EXCL);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENXIO or Errno.ENOENT)
        {
            return;
        }
        using (loop)
        {
            try
            {
                // Given back writable: the next user of the device would otherwise inherit a read-only publication's flag.
                SetReadOnly(loop, readOnly: false, devicePath);
                Libc.Ioctl(loop, LoopClrFd, 0, devicePath);
            }
            catch (ErrnoException e) when (e.Errno == Errno.ENXIO)
            {
                return;
            }
        }
        // LOOP_CLR_FD only marks the device to be detached at its last close. Still attached after ours means another
        // process holds it open: that mark would detach it whenever the holder closes, so it is taken back.
        if (ReadSys(SysPath(devicePath, "loop/backing_file")) is null || !CancelAutoClear(devicePath))
            return;
        throw new ErrnoException(Errno.EBUSY, "LOOP_CLR_FD", devicePath);
    }

    /// <summary>False when the device was detached in the meantime.</summary>
    private static bool CancelAutoClear(string devicePath)
    {
        try
        {
            using var loop = Open(devicePath, Libc.O_RDONLY);
            var info = GetStatus(loop, devicePath);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(info[FlagsOffset..]);
            BinaryPrimitives.WriteUInt32LittleEndian(info[FlagsOffset..], flags & ~AutoClear);
            SetStatus(loop, info, devicePath);
            return true;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENXIO or Errno.ENOENT)
        {
            return false;
        }
    }

    public void SetReadOnly(string devicePath, bool readOnly)
    {
        using var loop = Open(devicePath, Libc.O_RDONLY);
        SetReadOnly(loop, readOnly, devicePath);
    }

    private static unsafe void SetReadOnly(SafeFdHandle loop, bool readOnly, string devicePath)
    {
        int value = readOnly ? 1 : 0;
        Libc.Ioctl(loop, BlkRoSet, (nint)(&value), devicePath);
    }

    public void Resize(string devicePath, long sizeLimit) => DriverMeter.Counted(OsOperation.Grow, () => ResizeOnce(devicePath, sizeLimit));

    private static void ResizeOnce(string devicePath, long sizeLimit)
    {
        using var loop = Open(devicePath, Libc.O_RDONLY);
        var info = GetStatus(loop, devicePath);
        if (BinaryPrimitives.ReadInt64LittleEndian(info[SizeLimitOffset..]) != sizeLimit)
        {
            BinaryPrimitives.WriteInt64LittleEndian(info[SizeLimitOffset..], sizeLimit);
            SetStatus(loop, info, devicePath);
        }
        // The size follows the file within the cap; a file that grew under an unchanged cap needs this.
        Libc.Ioctl(loop, LoopSetCapacity, 0, devicePath);
    }

    private static unsafe Span<byte> GetStatus(SafeFdHandle loop, string devicePath)
    {
        var info = new byte[InfoSize];
        fixed (byte* pointer = info)
            Libc.Ioctl(loop, LoopGetStatus64, (nint)pointer, devicePath);
        return info;
    }

    private static unsafe void SetStatus(SafeFdHandle loop, Span<byte> info, string devicePath)
    {
        fixed (byte* pointer = info)
            Libc.Ioctl(loop, LoopSetStatus64, (nint)pointer, devicePath);
    }

    /// <summary>
    /// Opens a loop device node, making it first when it is missing: in a container /dev is often a private tmpfs
    /// where udev never makes nodes, neither for devices attached before the container started nor for new ones.
    /// </summary>
    private static SafeFdHandle Open(string devicePath, int flags)
    {
        try
        {
            return Libc.OpenAt(null, devicePath, flags);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENOENT && ReadSys(SysPath(devicePath, "dev")) is { } numbers)
        {
            var parts = numbers.Split(':');
            Libc.MkBlockDevice(devicePath, uint.Parse(parts[0], CultureInfo.InvariantCulture), uint.Parse(parts[1], CultureInfo.InvariantCulture), 0b110_000_000);
            return Libc.OpenAt(null, devicePath, flags);
        }
    }

    private static string SysPath(string devicePath, string attribute) => Path.Combine(SysBlock, Path.GetFileName(devicePath), attribute);

    private static string? ReadSys(string path)
    {
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
