namespace CsiHostPath.Volumes.Backings;

/// <summary>Picks the backing that serves a volume.</summary>
public sealed class VolumeBackings(IEnumerable<IVolumeBacking> backings)
{
    private readonly Dictionary<Backing, IVolumeBacking> _byKind = backings.ToDictionary(b => b.Kind);

    public IVolumeBacking For(Backing kind) => _byKind[kind];

    public IVolumeBacking For(VolumeRecord record) => _byKind[record.Backing];
}
