using CsiHostPath.Os;

namespace CsiHostPath.Snapshots;

/// <summary>
/// The filesystems frozen for one snapshot or group snapshot. <see cref="Token"/> is cancelled by the call's own
/// cancellation (the CO's deadline) or when a freeze has lasted too long; with nothing frozen (directory volumes) only
/// the call's own. Disposing thaws every one, whatever failed.
/// </summary>
public sealed class Freezes : IDisposable
{
    private readonly List<FileSystemFreeze> _frozen = [];
    private readonly CancellationTokenSource _limit;
    private readonly TimeSpan _maxFreeze;

    public Freezes(CancellationToken callToken, TimeSpan maxFreeze)
    {
        _limit = CancellationTokenSource.CreateLinkedTokenSource(callToken);
        _maxFreeze = maxFreeze;
    }

    public CancellationToken Token => _limit.Token;

    public void Add(FileSystemFreeze freeze)
    {
        // The limit counts from the first freeze: a copy of a million-file directory takes minutes and blocks no writer.
        if (_frozen.Count == 0)
            _limit.CancelAfter(_maxFreeze);
        _frozen.Add(freeze);
    }

    public void Dispose()
    {
        List<Exception> failures = [];
        foreach (var freeze in _frozen)
        {
            try
            {
                freeze.Dispose();
            }
            catch (IOException e)
            {
                failures.Add(e);
            }
        }
        _frozen.Clear();
        _limit.Dispose();
        if (failures.Count > 0)
            throw new AggregateException("thawing after a snapshot", failures);
    }
}
