using System.Globalization;

namespace CsiHostPath.Bench.Stats;

/// <summary>The CPU time a process has used, user and system, as /proc/&lt;pid&gt;/stat counts it.</summary>
public static class ProcessCpu
{
    // USER_HZ: the unit of /proc's CPU times, 100 on every Linux architecture the driver runs on.
    private const double TicksPerSecond = 100;

    public static double Seconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15, so 11 and 12 counting from field 3.
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }
}
