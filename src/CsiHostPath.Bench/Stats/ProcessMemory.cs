namespace CsiHostPath.Bench.Stats;

/// <summary>A process's resident set, as the kernel accounts it (what a container's memory limit sees, less page cache).</summary>
public static class ProcessMemory
{
    public static long RssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
        }
        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line: is {pid} a kernel thread?");
    }
}
