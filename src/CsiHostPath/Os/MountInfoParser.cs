using System.Globalization;
using System.Text;

namespace CsiHostPath.Os;

/// <summary>Parses /proc/self/mountinfo, the kernel's own account of what is mounted where.</summary>
public static class MountInfoParser
{
    public const string SelfMountInfo = "/proc/self/mountinfo";

    public static IReadOnlyList<MountInfo> ReadSelf() => Parse(File.ReadAllText(SelfMountInfo));

    public static IReadOnlyList<MountInfo> Parse(string text)
    {
        var mounts = new List<MountInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryParseLine(line, out var mount))
                mounts.Add(mount);
        }
        return mounts;
    }

    // Format: id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
    public static bool TryParseLine(string line, out MountInfo mount)
    {
        mount = null!;
        var fields = line.Split(' ');
        if (fields.Length < 10)
            return false;
        int separator = Array.IndexOf(fields, "-", 6);
        if (separator < 0 || fields.Length < separator + 3)
            return false;
        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent))
            return false;
        mount = new MountInfo(
            id,
            parent,
            Unescape(fields[3]),
            Unescape(fields[4]),
            fields[5],
            Unescape(fields[separator + 1]),
            Unescape(fields[separator + 2]),
            separator + 3 < fields.Length ? fields[separator + 3] : "");
        return true;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in paths as three-digit octal escapes.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var source = Encoding.UTF8.GetBytes(field);
        var decoded = new byte[source.Length];
        int length = 0;
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == (byte)'\\' && IsOctalDigits(source.AsSpan(i + 1)))
            {
                decoded[length++] = (byte)(((source[i + 1] - '0') << 6) | ((source[i + 2] - '0') << 3) | (source[i + 3] - '0'));
                i += 3;
            }
            else
            {
                decoded[length++] = source[i];
            }
        }
        return Encoding.UTF8.GetString(decoded, 0, length);
    }

    private static bool IsOctalDigits(ReadOnlySpan<byte> s) =>
        s.Length >= 3 && s[0] is >= (byte)'0' and <= (byte)'3' && s[1] is >= (byte)'0' and <= (byte)'7' && s[2] is >= (byte)'0' and <= (byte)'7';
}
