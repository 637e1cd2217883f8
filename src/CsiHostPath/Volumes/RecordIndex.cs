namespace CsiHostPath.Volumes;

/// <summary>
/// The in-memory view of every record of one kind (volumes, snapshots), rebuilt from disk at start-up. Sorted by id
/// so List* pages in O(log n) per call however many there are. Its lock guards only the map, never I/O.
/// </summary>
/// <remarks>A record <paramref name="listed"/> refuses is found by id but never paged.</remarks>
public class RecordIndex<TRecord>(Func<TRecord, string> idOf, Func<TRecord, bool>? listed = null)
    where TRecord : class
{
    private readonly Dictionary<string, TRecord> _byId = new(StringComparer.Ordinal);
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

    public TRecord? Find(string id)
    {
        lock (_lock)
            return _byId.GetValueOrDefault(id);
    }

    public void Put(TRecord record)
    {
        lock (_lock)
        {
            _byId[idOf(record)] = record;
            if (listed?.Invoke(record) ?? true)
                _ids.Add(idOf(record));
        }
    }

    public void Remove(string id)
    {
        lock (_lock)
        {
            _byId.Remove(id);
            _ids.Remove(id);
        }
    }

    /// <summary>Up to <paramref name="max"/> records with ids after <paramref name="afterId"/> (all when null), and whether more follow.</summary>
    public (IReadOnlyList<TRecord> Page, bool More) Page(string? afterId, int max) => Page(afterId, max, _ => true);

    /// <summary>As <see cref="Page(string?, int)"/>, counting only the records <paramref name="filter"/> accepts.</summary>
    public (IReadOnlyList<TRecord> Page, bool More) Page(string? afterId, int max, Func<TRecord, bool> filter)
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
            var page = new List<TRecord>(Math.Min(max, _ids.Count));
            foreach (var id in ids)
            {
                var record = _byId[id];
                if (!filter(record))
                    continue;
                if (page.Count == max)
                    return (page, true);
                page.Add(record);
            }
            return (page, false);
        }
    }

    public IReadOnlyList<TRecord> All()
    {
        lock (_lock)
            return [.. _byId.Values];
    }
}
