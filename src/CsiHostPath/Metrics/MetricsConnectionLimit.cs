using Microsoft.AspNetCore.Connections;

namespace CsiHostPath.Metrics;

/// <summary>
/// Bounds the metrics listener's connections. Kestrel's idle timeout is one for the whole server, and it is off because
/// the sidecars exit when their unix-socket connection drops; without this, any pod that can reach the node's port
/// could open connections that say nothing and hold each one, with its descriptor and buffers, for ever. So this TCP
/// listener takes at most <see cref="MaxConnections"/> at once and closes each one <c>lifetime</c> after it opened.
/// Every metrics response says <c>Connection: close</c>, so a scrape is one connection of a few milliseconds and the
/// lifetime only ever cuts connections that stall.
/// </summary>
internal sealed partial class MetricsConnectionLimit(TimeSpan lifetime, ILogger<MetricsConnectionLimit> logger)
{
    /// <summary>A Prometheus pair and a person with curl need a few; a flood gets no more than this.</summary>
    public const int MaxConnections = 16;

    private int _open;
    private int _refusing;

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (Interlocked.Increment(ref _open) > MaxConnections)
        {
            Interlocked.Decrement(ref _open);
            // Once per flood: a log line per refused connection would let the flood fill the node's disk instead.
            if (Interlocked.Exchange(ref _refusing, 1) == 0)
                LogRefusing(connection.RemoteEndPoint?.ToString() ?? "", MaxConnections);
            connection.Abort();
            return;
        }
        Volatile.Write(ref _refusing, 0);
        try
        {
            using var expiry = new CancellationTokenSource(lifetime);
            using var abortOnExpiry = expiry.Token.Register(static state => ((ConnectionContext)state!).Abort(), connection);
            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Refusing metrics connections, from {RemoteEndPoint} first, until fewer than {MaxConnections} are open")]
    private partial void LogRefusing(string remoteEndPoint, int maxConnections);
}
