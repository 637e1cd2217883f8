using System.Diagnostics;

namespace CsiHostPath.Testing;

/// <summary>
/// A small real filesystem of a fixed size, on a loop device, mounted at a directory: a data dir that can
/// fill up, be remounted read-only, and whose free space no other process on the machine touches.
/// </summary>
public sealed class LoopFileSystem : IDisposable
{
    private readonly string _fsType;

    private LoopFileSystem(string image, string mountPoint, string fsType)
    {
        ImagePath = image;
        MountPoint = mountPoint;
        _fsType = fsType;
    }

    /// <summary>The image mounted now: after <see cref="MountAgainFromDisk"/>, the copy of what reached the disk.</summary>
    public string ImagePath { get; private set; }

    public string MountPoint { get; }

    public static LoopFileSystem Create(TempRoot root, string name, long sizeBytes, string fsType = "ext4")
    {
        string image = root.Combine(name + ".img");
        string mountPoint = root.Combine(name);
        using (var file = new FileStream(image, FileMode.CreateNew))
            file.SetLength(sizeBytes);
        Run(fsType == "xfs" ? "mkfs.xfs" : "mkfs.ext4", fsType == "xfs" ? ["-q", "-f", image] : ["-q", "-F", "-m", "0", image]);
        Directory.CreateDirectory(mountPoint);
        // -o loop attaches with autoclear: the loop device goes away with the unmount.
        Run("mount", "-o", "loop", image, mountPoint);
        return new LoopFileSystem(image, mountPoint, fsType);
    }

    /// <summary>
    /// A power cut: the filesystem stops where its on-disk log stops (`xfs_io -x -c shutdown`, without the flush flag,
    /// so what was not yet in the log is lost). Nothing can be written to it until <see cref="MountAgainFromDisk"/>.
    /// </summary>
    public void CutPower() => Run("xfs_io", "-x", "-c", "shutdown", MountPoint);

    /// <summary>
    /// As a node boots after <see cref="CutPower"/>: unmounts the dead filesystem and mounts what reached the disk (the
    /// image file) at the same place. Another process's mount namespace made meanwhile (parallel tests, a shared machine)
    /// may still hold the dead filesystem and its loop device, which mount(8) would reuse: a copy of the disk is mounted
    /// instead, as xfs would refuse a second live filesystem of the same UUID. Nothing may be mounted beneath it.
    /// </summary>
    public void MountAgainFromDisk()
    {
        Run("umount", MountPoint);
        string rebooted = ImagePath[..^".img".Length] + "-rebooted.img";
        Run("cp", "--sparse=always", ImagePath, rebooted);
        Run("mount", "-o", _fsType == "xfs" ? "loop,nouuid" : "loop", rebooted, MountPoint);
        ImagePath = rebooted;
    }

    public void RemountReadOnly() => Run("mount", "-o", "remount,ro", MountPoint);

    public void RemountReadWrite() => Run("mount", "-o", "remount,rw", MountPoint);

    public void Dispose()
    {
        Mounts.DetachAllBeneath(MountPoint);
    }

    /// <summary>Runs a system tool the test set-up needs (mkfs, mount); throws with its stderr if it fails.</summary>
    public static string Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout.Result
            : throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
    }

    /// <summary>
    /// Detaches every loop device backed by a file beneath <paramref name="root"/>; one still mounted is detached as soon
    /// as its filesystem is unmounted (the kernel's autoclear). Never throws: clean-up must not hide a test's result.
    /// </summary>
    public static void DetachLoopDevicesBeneath(string root)
    {
        foreach (var device in LoopDevicesBeneath(root))
            TryDetach(device);
    }

    /// <summary>Detaches <paramref name="device"/>, or marks it to go when its last user closes it; never throws.</summary>
    public static void TryDetach(string device)
    {
        try
        {
            // A test that failed while a read-only block publication stood would hand the next user a read-only device.
            Run("blockdev", "--setrw", device);
            Run("losetup", "-d", device);
        }
        catch (InvalidOperationException)
        {
            // Already detached by the driver or the kernel in the meantime.
        }
    }

    /// <summary>
    /// Loop devices whose backing file is on the filesystem mounted at <paramref name="mountPoint"/>, found by the
    /// device number the kernel keeps (LOOP_GET_STATUS64's lo_device), not by the path it shows, which names the
    /// mount the file was opened through and may belong to a mount namespace that is gone.
    /// </summary>
    public static IReadOnlyList<string> LoopDevicesOn(string mountPoint)
    {
        string device = Mounts.DeviceOf(mountPoint);
        var devices = new List<string>();
        foreach (var block in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            if (!File.Exists(Path.Combine(block, "loop", "backing_file")))
                continue;
            string loop = "/dev/" + Path.GetFileName(block);
            if (Interop.LoopBackingDevice(loop) is { } backing && $"{backing.Major}:{backing.Minor}" == device)
                devices.Add(loop);
        }
        return devices;
    }

    /// <summary>Loop devices whose backing file lies beneath <paramref name="root"/>: what a test must leave at zero.</summary>
    public static IReadOnlyList<string> LoopDevicesBeneath(string root)
    {
        var devices = new List<string>();
        foreach (var block in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            string backing = Path.Combine(block, "loop", "backing_file");
            if (File.Exists(backing) && File.ReadAllText(backing).StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
                devices.Add("/dev/" + Path.GetFileName(block));
        }
        return devices;
    }
}
