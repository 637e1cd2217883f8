using System.Globalization;

namespace CsiHostPath.Os;

/// <summary>The Linux capabilities this process holds (capabilities(7)), read from /proc/self/status.</summary>
public static class ProcessCapabilities
{
    public const int SysAdmin = 21;
    public const int SysResource = 24;

    public static bool Has(int capability)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ((ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) >> capability) & 1) == 1;
        }
        return false;
    }
}
