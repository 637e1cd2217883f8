namespace CsiHostPath.Hosting;

/// <summary>
/// Gives the garbage collector's free memory back to the kernel. A node's driver mostly waits: after start-up, and
/// after a burst of calls, the collector would otherwise keep the regions it grew into committed until the next burst
/// (~11 MiB after start-up; ~3.5 MiB after 800 lifecycles at 8 clients now that gen0's budget is capped at 2 MiB,
/// ~27 MiB before; docs/performance.md).
/// </summary>
public static class MemoryTrim
{
    public static void Collect() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}
