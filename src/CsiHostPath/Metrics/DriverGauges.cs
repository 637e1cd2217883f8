using System.Diagnostics.Metrics;
using CsiHostPath.Snapshots;
using CsiHostPath.Volumes;

namespace CsiHostPath.Metrics;

/// <summary>
/// What a scrape reads of the node's state: volumes and snapshots by backing, bytes promised and used, the free capacity
/// GetCapacity reports, and how stale the oldest usage figure is. Each is read from memory (the indexes, the usage
/// cache, the planner's running totals, one statfs of the data dir) when scraped: a scrape never walks a tree or stats
/// a volume.
/// </summary>
public sealed class DriverGauges
{
    public DriverGauges(VolumeIndex volumes, SnapshotIndex snapshots, CapacityPlanner capacity, DirectoryUsageCache usage, ImagePromises promises)
    {
        DriverMeter.Gauge("csi_hostpath_volumes",
            () => ByBacking(volumes.All(), v => v.Backing, _ => 1L), unit: null, "Volumes on this node, by backing.");
        DriverMeter.Gauge("csi_hostpath_snapshots",
            () => ByBacking(snapshots.All(), s => s.Backing, _ => 1L), unit: null, "Snapshots on this node, by backing of their source.");
        DriverMeter.Gauge("csi_hostpath_provisioned",
            () => ByBacking(volumes.All(), v => v.Backing, v => v.CapacityBytes), unit: "By", "Sum of the volumes' capacity, by backing.");
        DriverMeter.Gauge<long>("csi_hostpath_used",
            () =>
            [
                new Measurement<long>(usage.TotalBytes, BackingTag(Backing.Directory)),
                new Measurement<long>(ImageBytesAllocated(volumes.All(), promises), BackingTag(Backing.Image)),
            ], unit: "By",
            "Bytes the volumes take on the data dir's disk: directory volumes as their last usage walks counted them, image files as last measured (create, start-up, expansion, NodeGetVolumeStats).");
        DriverMeter.Gauge<long>("csi_hostpath_capacity_free",
            () => [new Measurement<long>(capacity.Available())], unit: "By", "Bytes GetCapacity reports free for new volumes.");
        DriverMeter.Gauge<double>("csi_hostpath_usage_oldest_figure_age",
            () => [new Measurement<double>(usage.OldestAge.TotalSeconds)], unit: "s",
            "Age of the oldest directory-volume usage figure kept; NodeGetVolumeStats answers from these figures.");
    }

    private static IEnumerable<Measurement<long>> ByBacking<T>(IReadOnlyList<T> records, Func<T, Backing> backing, Func<T, long> value)
    {
        var sums = new long[Kinds.Length];
        foreach (var record in records)
            sums[Array.IndexOf(Kinds, backing(record))] += value(record);
        return Kinds.Select((kind, i) => new Measurement<long>(sums[i], BackingTag(kind)));
    }

    /// <summary>What image files hold of their promised sizes: the sizes, less what <see cref="ImagePromises"/> counts as not yet allocated.</summary>
    private static long ImageBytesAllocated(IReadOnlyList<VolumeRecord> records, ImagePromises promises)
    {
        long promised = 0;
        foreach (var record in records)
        {
            if (record.Backing == Backing.Image && record.Damage is null)
                promised += record.CapacityBytes;
        }
        return Math.Max(0, promised - promises.Total);
    }

    private static readonly Backing[] Kinds = Enum.GetValues<Backing>();

    private static KeyValuePair<string, object?> BackingTag(Backing backing) => new("backing", backing.ToString().ToLowerInvariant());
}
