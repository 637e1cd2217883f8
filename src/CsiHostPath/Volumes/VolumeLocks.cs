using System.Collections.Concurrent;

namespace CsiHostPath.Volumes;

/// <summary>One operation in flight per volume; a second gets <see cref="OperationPendingException"/> at once (CSI: ABORTED).</summary>
public sealed class VolumeLocks
{
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    public Lease Acquire(string volumeId) =>
        _held.TryAdd(volumeId, 0) ? new Lease(this, volumeId) : throw new OperationPendingException(volumeId);

    public readonly struct Lease(VolumeLocks owner, string volumeId) : IDisposable
    {
        public void Dispose() => owner._held.TryRemove(volumeId, out _);
    }
}
