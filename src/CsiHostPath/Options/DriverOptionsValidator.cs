using System.Text.RegularExpressions;

namespace CsiHostPath.Options;

/// <summary>Fails start-up on options that would make a driver kubelet cannot use.</summary>
public static partial class DriverOptionsValidator
{
    // The CSIDriver object's name rules: a DNS subdomain of at most 63 characters.
    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")]
    private static partial Regex DriverNamePattern();

    public static IReadOnlyList<string> Validate(DriverOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeId))
            errors.Add("--node-id is empty and the host name could not be read");
        else if (options.NodeId.Length > 128)
            errors.Add("--node-id is longer than the 128 bytes CSI allows");
        if (!DriverNamePattern().IsMatch(options.DriverName))
            errors.Add($"--driver-name '{options.DriverName}' is not a DNS subdomain of at most 63 characters");
        if (!Path.IsPathRooted(options.DataDir))
            errors.Add($"--data-dir '{options.DataDir}' is not an absolute path");
        if (!Path.IsPathRooted(options.Endpoint))
            errors.Add($"--endpoint '{options.Endpoint}' is not an absolute unix socket path");
        else if (System.Text.Encoding.UTF8.GetByteCount(options.Endpoint) > 107)
            errors.Add($"--endpoint '{options.Endpoint}' is longer than a unix socket path may be (107 bytes)");
        if (options.MaxVolumesPerNode < 0)
            errors.Add("--max-volumes-per-node must be 0 (no limit) or more");
        if (options.DefaultVolumeSizeBytes <= 0)
            errors.Add("--default-volume-size must be more than 0");
        return errors;
    }
}
