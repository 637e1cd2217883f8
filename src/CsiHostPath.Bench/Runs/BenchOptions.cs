namespace CsiHostPath.Bench.Runs;

public enum BenchMode
{
    /// <summary>CreateVolume → [NodeStage] → NodePublish → NodeUnpublish → [NodeUnstage] → DeleteVolume.</summary>
    Lifecycle,

    /// <summary>CreateVolume → DeleteVolume, the controller alone.</summary>
    CreateDelete,

    /// <summary>One published volume filled with small files, then NodeGetVolumeStats calls, as kubelet polls them.</summary>
    Stats,

    /// <summary>After --prefill: CreateVolume, ControllerGetVolume, GetCapacity, NodeGetVolumeStats and DeleteVolume per item.</summary>
    Scale,

    /// <summary>One published volume filled with --files files of data, then CreateSnapshot and a restore from it, --count times.</summary>
    Snapshot,
}

public sealed record BenchOptions
{
    public required string Endpoint { get; init; }

    public BenchMode Mode { get; init; } = BenchMode.Lifecycle;

    public int Concurrency { get; init; } = 8;

    public int Count { get; init; } = 100;

    public long SizeBytes { get; init; } = 1 << 20;

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Volumes to create (or find, on a second run) before the measured run.</summary>
    public int Prefill { get; init; }

    /// <summary>How many of the <see cref="Prefill"/> volumes are backing=image (the first ones).</summary>
    public int PrefillImages { get; init; }

    /// <summary>Files of 100 bytes the stats mode writes into its volume before it times the calls; the snapshot mode's files share 90% of --size.</summary>
    public int Files { get; init; } = 1000;

    /// <summary>The driver's pid, to read its resident memory before and after.</summary>
    public int? Pid { get; init; }

    /// <summary>Where target and staging directories go, as kubelet's pods directory; a fresh directory is made beneath it.</summary>
    public string WorkDir { get; init; } = Path.GetTempPath();
}
