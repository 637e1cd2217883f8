using System.Globalization;

namespace CsiHostPath.Testing;

/// <summary>The Linux capabilities of the test process (capabilities(7)), which a driver it starts inherits.</summary>
public static class Capabilities
{
    private const int SysResource = 24;

    /// <summary>CAP_SYS_RESOURCE: the kernel grows a mounted ext4 only for a process that has it; many sandboxes drop it.</summary>
    public static bool HasSysResource => Has(SysResource);

    private static bool Has(int capability)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return ((ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) >> capability) & 1) == 1;
    }
}
