using System.Diagnostics;
using CsiHostPath.Interop;
using CsiHostPath.Metrics;

namespace CsiHostPath.Os;

/// <summary>
/// The filesystem programs image volumes need (e2fsprogs, xfsprogs). They are the one thing run as child
/// processes: formatting and growing a filesystem have no system call.
/// </summary>
public sealed class FileSystemTools
{
    private const string NoSpace = "No space left on device";

    private static readonly string[] SearchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    public static readonly IReadOnlyList<string> Supported = ["ext4", "xfs"];

    /// <summary>Why <paramref name="fsType"/> cannot be made here, or null when its tools are installed.</summary>
    public string? Missing(string fsType) => fsType switch
    {
        "ext4" => MissingTools("mkfs.ext4", "resize2fs", "e2fsck"),
        "xfs" => MissingTools("mkfs.xfs", "xfs_growfs"),
        _ => $"fs_type '{fsType}' is not supported (supported: {string.Join(", ", Supported)})",
    };

    /// <summary>Smallest filesystem mkfs accepts (xfsprogs refuses below 300 MiB).</summary>
    public static long MinimumBytes(string fsType) => fsType == "xfs" ? 300L << 20 : 1L << 20;

    public void Format(string imagePath, string fsType) => DriverMeter.Counted(OsOperation.Mkfs, () =>
    {
        if (fsType == "xfs")
            Run("mkfs.xfs", "-q", "-f", imagePath);
        else
            // No blocks reserved for root: the pod gets the whole size it asked for.
            Run("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1", imagePath);
    });

    /// <summary>Why a mounted <paramref name="fsType"/> cannot be grown by this process, or null when it can.</summary>
    public static string? OnlineGrowthRefusal(string fsType) =>
        fsType == "ext4" && !ProcessCapabilities.Has(ProcessCapabilities.SysResource)
            ? "growing a mounted ext4 filesystem needs CAP_SYS_RESOURCE, which this driver's process lacks: run it privileged, or use fsType xfs"
            : null;

    /// <summary>Grows a mounted filesystem to fill its (already grown) device.</summary>
    public void Grow(string devicePath, string mountPath, string fsType) => DriverMeter.Counted(OsOperation.Grow, () =>
    {
        if (fsType == "xfs")
            Run("xfs_growfs", mountPath);
        else
            Run("resize2fs", devicePath);
    });

    /// <summary>Grows an unmounted filesystem to fill its (already grown) device: resize2fs needs no capability then.</summary>
    public void GrowOffline(string devicePath, string fsType)
    {
        if (fsType != "ext4")
            throw new InvalidOperationException($"only ext4 is grown unmounted, not {fsType}");
        DriverMeter.Counted(OsOperation.Grow, () =>
        {
            // resize2fs refuses a filesystem not checked since its last mount; e2fsck's 1 means it corrected something.
            Run("e2fsck", [0, 1], "-f", "-p", devicePath);
            Run("resize2fs", devicePath);
        });
    }

    private static string? MissingTools(params string[] tools)
    {
        var missing = tools.Where(t => Find(t) is null).ToList();
        return missing.Count == 0 ? null : $"{string.Join(" and ", missing)} not installed on this node";
    }

    private static string? Find(string tool) =>
        SearchPath.Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    private static void Run(string tool, params string[] args) => Run(tool, [0], args);

    private static void Run(string tool, int[] success, params string[] args)
    {
        var start = new ProcessStartInfo(Find(tool) ?? throw new IOException($"{tool} is not installed on this node"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Untranslated messages, so that a full disk is recognised below.
            Environment = { ["LC_ALL"] = "C" },
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        if (success.Contains(process.ExitCode))
            return;
        string message = $"{tool} {string.Join(' ', args)} failed with exit code {process.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}".TrimEnd();
        // The tools report a full disk only in words; carried as the errno, it maps to RESOURCE_EXHAUSTED like any ENOSPC.
        throw message.Contains(NoSpace, StringComparison.Ordinal) ? new IOException(message, Errno.ENOSPC) : new IOException(message);
    }
}
