using System.Text.RegularExpressions;

namespace CsiHostPath.Options;

/// <summary>Fails start-up on options that would make a driver kubelet cannot use; each error names its flag.</summary>
public static partial class DriverOptionsValidator
{
    // The CSIDriver object's name rules: a DNS subdomain of at most 63 characters.
    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")]
    private static partial Regex DriverNamePattern();

    public static IReadOnlyList<string> Validate(DriverOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeId))
            errors.Add("--node-id: empty, and the host name could not be read");
        else if (options.NodeId.Length > 128)
            errors.Add($"--node-id: {options.NodeId.Length} bytes, more than the 128 CSI allows");
        if (!DriverNamePattern().IsMatch(options.DriverName))
            errors.Add($"--driver-name: '{options.DriverName}' is not a DNS subdomain of at most 63 characters");
        if (!Path.IsPathRooted(options.DataDir))
            errors.Add($"--data-dir: '{options.DataDir}' is not an absolute path");
        else if (File.Exists(options.DataDir))
            errors.Add($"--data-dir: {options.DataDir} is a file, not a directory");
        if (!Path.IsPathRooted(options.Endpoint))
            errors.Add($"--endpoint: '{options.Endpoint}' is not an absolute unix socket path");
        else if (System.Text.Encoding.UTF8.GetByteCount(options.Endpoint) > 107)
            errors.Add($"--endpoint: '{options.Endpoint}' is longer than a unix socket path may be (107 bytes)");
        else if (Path.GetDirectoryName(options.Endpoint) is { } socketDir && File.Exists(socketDir))
            errors.Add($"--endpoint: {socketDir} is a file, not a directory");
        if (options.MaxVolumesPerNode < 0)
            errors.Add($"--max-volumes-per-node: {options.MaxVolumesPerNode}; must be 0 (no limit) or more");
        if (options.UsageWalkers < 1)
            errors.Add($"--usage-walkers: {options.UsageWalkers}; must be 1 or more");
        if (options.DefaultVolumeSizeBytes <= 0)
            errors.Add($"--default-volume-size: {options.DefaultVolumeSizeBytes}; must be more than 0 bytes");
        if (options.MaxEphemeralVolumeSizeBytes <= 0)
            errors.Add($"--max-ephemeral-volume-size: {options.MaxEphemeralVolumeSizeBytes}; must be more than 0 bytes");
        if (options.EphemeralSweepInterval <= TimeSpan.Zero)
            errors.Add($"--ephemeral-sweep-interval: {options.EphemeralSweepInterval}; must be more than 0");
        return errors;
    }
}
