using System.Net.Sockets;
using CsiHostPath.Transport.Grpc;
using CsiHostPath.Transport.Http2;

namespace CsiHostPath.Transport;

/// <summary>
/// Serves gRPC on a unix socket: accepts connections and runs each as HTTP/2. In place of ASP.NET Core and Kestrel,
/// which cost this driver 15 MB of resident memory and 30 ms of start-up for features a node plugin never uses
/// (docs/performance.md).
/// </summary>
internal sealed partial class GrpcServer(GrpcRequestHandler handler, ILogger<GrpcServer> logger) : IAsyncDisposable
{
    /// <summary>CSI messages are small; a cap keeps a hostile client from making the driver buffer megabytes.</summary>
    public const int MaxReceiveMessageSize = 1 << 20;

    private static readonly Http2Limits Limits = new() { MaxRequestBodySize = MaxReceiveMessageSize + GrpcMessage.PrefixSize };

    private readonly Lock _lock = new();
    private readonly HashSet<Http2Connection> _connections = [];
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;

    /// <summary>Binds and listens before returning, so the socket is connectable when this returns.</summary>
    public void Start(string socketPath)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        _accepting = AcceptAsync(listener);
    }

    /// <summary>Stops accepting, lets calls in flight finish within <paramref name="grace"/>, then closes every connection.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _listener?.Dispose();
        await _accepting;
        Http2Connection[] connections;
        lock (_lock)
            connections = [.. _connections];
        using var timeout = new CancellationTokenSource(grace);
        await Task.WhenAll(connections.Select(connection => connection.StopAsync(timeout.Token)));
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.Zero);

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                return;
            }
            _ = ServeAsync(new Http2Connection(new NetworkStream(client, ownsSocket: true), handler, Limits, logger));
        }
    }

    private async Task ServeAsync(Http2Connection connection)
    {
        lock (_lock)
            _connections.Add(connection);
        try
        {
            await connection.RunAsync();
        }
        catch (Exception e)
        {
            LogConnectionFailed(logger, e);
        }
        finally
        {
            lock (_lock)
                _connections.Remove(connection);
        }
    }

    [LoggerMessage(EventId = 610, Level = LogLevel.Error, Message = "A client connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);
}
