using System.Collections.Concurrent;

namespace CsiHostPath.Volumes;

/// <summary>
/// One operation in flight per volume, and one per target path; a second gets <see cref="OperationPendingException"/>
/// at once (CSI: ABORTED). A target is shared ground between volumes, so a call that touches one takes the volume's
/// lease first and the target's second, always in that order; neither ever waits, so no two calls can deadlock.
/// </summary>
public sealed class VolumeLocks
{
    private readonly ConcurrentDictionary<string, byte> _volumes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _targets = new(StringComparer.Ordinal);

    public Lease Acquire(string volumeId) => Take(_volumes, volumeId, "volume");

    /// <summary>Taken while holding the volume's lease; <paramref name="canonicalTarget"/> names the target however it was spelt.</summary>
    public Lease AcquireTarget(string canonicalTarget) => Take(_targets, canonicalTarget, "target_path");

    private static Lease Take(ConcurrentDictionary<string, byte> held, string key, string kind) =>
        held.TryAdd(key, 0) ? new Lease(held, key) : throw new OperationPendingException($"{kind} {key}");

    public readonly struct Lease(ConcurrentDictionary<string, byte> held, string key) : IDisposable
    {
        public void Dispose() => held.TryRemove(key, out _);
    }
}
