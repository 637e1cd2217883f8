using System.Text.RegularExpressions;

namespace CsiHostPath.Volumes;

/// <summary>
/// The mount options that belong to an image volume's own filesystem (its superblock), not to the bind mount at a
/// target: <c>lazytime</c>, <c>discard</c> and SELinux's <c>context=</c>. A filesystem has one set of them for all its
/// publications, and a directory volume, a bind mount of a directory of the node's filesystem, has none of its own.
/// </summary>
public sealed partial record FileSystemOptions(bool LazyTime, bool Discard, string? SeLinuxContext)
{
    public static readonly FileSystemOptions None = new(false, false, null);

    private const string ContextPrefix = "context=";

    public static bool IsOne(string flag) =>
        flag is "lazytime" or "discard" || flag.StartsWith(ContextPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Why <paramref name="flag"/>, one of these options, cannot be passed to mount(2), or null. kubelet quotes a context
    /// (pkg/volume/util/selinux.go AddSELinuxMountOption: <c>context="…:s0:c0,c1"</c>) because its categories hold a
    /// comma; unquoted, that comma would end the option and start another in the mount data.
    /// </summary>
    public static string? Malformed(string flag)
    {
        if (!flag.StartsWith(ContextPrefix, StringComparison.Ordinal))
            return null;
        string value = flag[ContextPrefix.Length..];
        bool quoted = value.Length >= 2 && value[0] == '"' && value[^1] == '"';
        string context = quoted ? value[1..^1] : value;
        if (!SeLinuxContextPattern().IsMatch(context))
            return $"mount flag '{flag}' is not an SELinux context (user:role:type:level, letters, digits and _ . : , - only)";
        return !quoted && context.Contains(',')
            ? $"mount flag '{flag}' has a comma outside quotes; quote the context as kubelet does: context=\"{context}\""
            : null;
    }

    /// <summary>The options among <paramref name="flags"/>, which <see cref="Malformed"/> has accepted.</summary>
    public static FileSystemOptions Of(IEnumerable<string> flags)
    {
        var options = None;
        foreach (var flag in flags)
        {
            if (flag == "lazytime")
                options = options with { LazyTime = true };
            else if (flag == "discard")
                options = options with { Discard = true };
            else if (flag.StartsWith(ContextPrefix, StringComparison.Ordinal))
                options = options with { SeLinuxContext = flag[ContextPrefix.Length..].Trim('"') };
        }
        return options;
    }

    /// <summary>The options as mount(2) data; the context quoted, as its comma requires.</summary>
    public IEnumerable<string> MountData()
    {
        if (LazyTime)
            yield return "lazytime";
        if (Discard)
            yield return "discard";
        if (SeLinuxContext is not null)
            yield return $"{ContextPrefix}\"{SeLinuxContext}\"";
    }

    /// <summary>Whether a filesystem whose superblock options mountinfo shows as <paramref name="superOptions"/> has exactly these.</summary>
    public bool ShownBy(string superOptions)
    {
        var words = superOptions.Split(',');
        bool context = SeLinuxContext is null
            ? !superOptions.Contains(ContextPrefix, StringComparison.Ordinal)
            : superOptions.Contains($"{ContextPrefix}\"{SeLinuxContext}\"", StringComparison.Ordinal)
              || superOptions.Contains(ContextPrefix + SeLinuxContext, StringComparison.Ordinal);
        return words.Contains("lazytime") == LazyTime && words.Contains("discard") == Discard && context;
    }

    public override string ToString() => MountData().Any() ? string.Join(',', MountData()) : "none of lazytime, discard, context=";

    [GeneratedRegex(@"^[A-Za-z0-9_.:,\-]+$")]
    private static partial Regex SeLinuxContextPattern();
}
