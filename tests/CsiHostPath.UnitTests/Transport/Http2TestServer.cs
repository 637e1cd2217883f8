using System.Net.Sockets;
using CsiHostPath.Transport.Http2;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// The connection under test, served for real: a listening unix socket in a fresh directory, one accepted client,
/// and <see cref="Http2Connection.RunAsync"/> on it, as <c>GrpcServer</c> does for each client.
/// </summary>
internal sealed class Http2TestServer : IAsyncDisposable
{
    private readonly TempSocketDirectory _directory = new();
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private Http2Connection? _connection;
    private Task? _running;

    public Http2TestServer()
    {
        _listener.Bind(new UnixDomainSocketEndPoint(_directory.SocketPath));
        _listener.Listen(1);
    }

    public Http2Connection Connection => _connection ?? throw new InvalidOperationException("no client has connected");

    /// <summary>The connection's <see cref="Http2Connection.RunAsync"/>: it completes once the connection has ended.</summary>
    public Task Running => _running ?? throw new InvalidOperationException("no client has connected");

    /// <summary>Connects a raw client and starts serving it; nothing has been sent either way yet.</summary>
    public async Task<RawHttp2Client> ConnectAsync(IHttp2RequestHandler handler, Http2Limits limits)
    {
        var accepting = _listener.AcceptAsync();
        var client = await RawHttp2Client.ConnectAsync(_directory.SocketPath);
        var accepted = await accepting.WaitAsync(RawHttp2Client.Timeout);
        _connection = new Http2Connection(new NetworkStream(accepted, ownsSocket: true), handler, limits, NullLogger.Instance);
        _running = Task.Run(_connection.RunAsync);
        return client;
    }

    /// <summary>Waits for the connection to end, surfacing anything RunAsync threw.</summary>
    public async Task WaitForEndAsync() => await Running.WaitAsync(RawHttp2Client.Timeout);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            // The test disposes its client first, which ends the connection; a server still running would mean it
            // missed the end of its transport.
            if (_running is not null)
                await WaitForEndAsync();
        }
        finally
        {
            _directory.Dispose();
        }
    }
}
