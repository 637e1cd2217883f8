namespace CsiHostPath.Volumes;

/// <summary>
/// Bytes promised to image volumes that their sparse files have not taken from the data dir yet, kept as a running
/// total so that <see cref="CapacityPlanner"/> answers without a stat per image volume on every CreateVolume,
/// expansion and GetCapacity. Each volume's figure is measured when its image is activated (create and start-up),
/// grown, and measured for NodeGetVolumeStats (kubelet asks every published volume once a minute); it is dropped when
/// the image is released. What a pod writes between two measurements is counted both as promised and as taken from
/// the free bytes, so the total errs towards less capacity, never more.
/// </summary>
public sealed class ImagePromises
{
    private readonly Dictionary<string, long> _unallocated = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _total;

    public long Total
    {
        get
        {
            lock (_lock)
                return _total;
        }
    }

    public void Set(string volumeId, long unallocatedBytes)
    {
        lock (_lock)
        {
            _total += unallocatedBytes - _unallocated.GetValueOrDefault(volumeId);
            _unallocated[volumeId] = unallocatedBytes;
        }
    }

    public void Remove(string volumeId)
    {
        lock (_lock)
        {
            if (_unallocated.Remove(volumeId, out long unallocated))
                _total -= unallocated;
        }
    }
}
