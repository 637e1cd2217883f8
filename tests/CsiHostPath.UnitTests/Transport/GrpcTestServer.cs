using CsiHostPath.Transport;
using CsiHostPath.Transport.Grpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>A server with the test service, and a raw client past its handshake.</summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    private readonly TempSocketDirectory _directory;
    private readonly GrpcServer _server;

    private GrpcTestServer(TempSocketDirectory directory, GrpcServer server, RawHttp2Client client)
    {
        _directory = directory;
        _server = server;
        Client = client;
    }

    public RawHttp2Client Client { get; }

    /// <summary>Starts serving; calls wait for <paramref name="gate"/>, or are answered at once without one.</summary>
    public static async Task<GrpcTestServer> StartAsync(RequestGate? gate = null)
    {
        if (gate is null)
        {
            gate = new RequestGate();
            gate.Open();
        }
        var directory = new TempSocketDirectory();
        var server = new GrpcServer(new GrpcRequestHandler(TestGrpcService.CreateMethodTable(), gate), NullLogger<GrpcServer>.Instance);
        RawHttp2Client? client = null;
        try
        {
            server.Start(directory.SocketPath);
            client = await RawHttp2Client.ConnectAsync(directory.SocketPath);
            await client.HandshakeAsync();
            return new GrpcTestServer(directory, server, client);
        }
        catch
        {
            if (client is not null)
                await client.DisposeAsync();
            await server.DisposeAsync();
            directory.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _server.StopAsync(TimeSpan.Zero).WaitAsync(RawHttp2Client.Timeout);
        _directory.Dispose();
    }
}
