namespace CsiHostPath.Hosting;

/// <summary>
/// Holds calls until the driver can answer them. The socket opens before the volume records are loaded, so that
/// kubelet and the sidecars connect at once and queue instead of meeting a refused connection and backing off;
/// no call sees a half-loaded index. It also counts the calls in flight, so that shutdown can say what it drained.
/// </summary>
public sealed class RequestGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;

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
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
