namespace CsiHostPath.Volumes;

/// <summary>
/// The in-memory view of every volume, rebuilt from disk at start-up. Sorted by id so ListVolumes pages
/// in O(log n) per call however many volumes there are. Its lock guards only the map, never I/O.
/// Ephemeral inline volumes are found by id but not paged: ListVolumes is the controller's view, and they are not its.
/// </summary>
public sealed class VolumeIndex
{
    private readonly Dictionary<string, VolumeRecord> _byId = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
                return _byId.Count;
        }
    }

    public VolumeRecord? Find(string volumeId)
    {
        lock (_lock)
            return _byId.GetValueOrDefault(volumeId);
    }

    public void Put(VolumeRecord record)
    {
        lock (_lock)
        {
            _byId[record.VolumeId] = record;
            if (!record.IsEphemeral)
                _ids.Add(record.VolumeId);
        }
    }

    public void Remove(string volumeId)
    {
        lock (_lock)
        {
            _byId.Remove(volumeId);
            _ids.Remove(volumeId);
        }
    }

    /// <summary>Up to <paramref name="max"/> records with ids after <paramref name="afterId"/> (all when null), and whether more follow.</summary>
    public (IReadOnlyList<VolumeRecord> Page, bool More) Page(string? afterId, int max)
    {
        lock (_lock)
        {
            IEnumerable<string> ids = _ids;
            if (afterId is not null && _ids.Count > 0)
            {
                if (string.CompareOrdinal(afterId, _ids.Max) >= 0)
                    return ([], false);
                ids = _ids.GetViewBetween(afterId, _ids.Max!).SkipWhile(id => id == afterId);
            }
            var page = new List<VolumeRecord>(Math.Min(max, _ids.Count));
            foreach (var id in ids)
            {
                if (page.Count == max)
                    return (page, true);
                page.Add(_byId[id]);
            }
            return (page, false);
        }
    }

    public IReadOnlyList<VolumeRecord> All()
    {
        lock (_lock)
            return [.. _byId.Values];
    }
}
