namespace CsiHostPath.Hosting;

/// <summary>
/// Holds calls until the driver can answer them. The socket opens before the volume records are loaded, so that
/// kubelet and the sidecars connect at once and queue instead of meeting a refused connection and backing off;
/// no call sees a half-loaded index. It also counts the calls in flight, so that shutdown can say what it drained,
/// and so that memory a burst of calls grew into is given back once they have stopped.
/// </summary>
public sealed class RequestGate : IDisposable
{
    /// <summary>How long no call must be in flight before the burst's memory is given back.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer _quiet;
    private int _inFlight;

    public RequestGate() => _quiet = new Timer(_ => CollectIfQuiet());

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Open() => _open.TrySetResult();

    /// <summary>The first step of every request: waits for <see cref="Open"/>, then hands on.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await _open.Task;
            await next(context);
        }
        finally
        {
            // Every call that leaves the driver idle restarts the quiet period; a call that arrives meanwhile is seen.
            if (Interlocked.Decrement(ref _inFlight) == 0)
                _quiet.Change(QuietPeriod, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _quiet.Dispose();

    private void CollectIfQuiet()
    {
        if (InFlight == 0)
            MemoryTrim.Collect();
    }
}
