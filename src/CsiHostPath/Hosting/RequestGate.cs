namespace CsiHostPath.Hosting;

/// <summary>
/// Holds calls until the driver can answer them. The socket opens before the volume records are loaded, so that
/// kubelet and the sidecars connect at once and queue instead of meeting a refused connection and backing off;
/// no call sees a half-loaded index.
/// </summary>
public sealed class RequestGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    /// <summary>The first step of every request: waits for <see cref="Open"/>, then hands on.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        await _open.Task;
        await next(context);
    }
}
