using System.Net.Sockets;
using Csi.V1;
using Grpc.Net.Client;

namespace CsiHostPath.Client;

/// <summary>gRPC clients for the CSI services over one unix socket, as kubelet and the sidecars connect: used by the benchmark and the tests.</summary>
public sealed class CsiClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private int _connects;

    /// <param name="socketPath">The driver's socket.</param>
    /// <param name="wrapHandler">Lets a test put its own handler in front of the socket's, to hold or watch a request.</param>
    public CsiClient(string socketPath, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                Interlocked.Increment(ref _connects);
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = wrapHandler?.Invoke(handler) ?? handler });
        Identity = new Identity.IdentityClient(_channel);
        Controller = new Controller.ControllerClient(_channel);
        Node = new Node.NodeClient(_channel);
        GroupController = new GroupController.GroupControllerClient(_channel);
    }

    public string SocketPath { get; }

    /// <summary>How many connections this client has opened to the socket: one, unless the driver closed one.</summary>
    public int Connects => Volatile.Read(ref _connects);

    public Identity.IdentityClient Identity { get; }

    public Controller.ControllerClient Controller { get; }

    public Node.NodeClient Node { get; }

    public GroupController.GroupControllerClient GroupController { get; }

    /// <summary>Accepts the forms kubelet and the sidecars take: unix:///abs/path, unix:/abs/path or a bare path.</summary>
    public static string SocketPathOf(string endpoint) =>
        endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..]
        : endpoint.StartsWith("unix:", StringComparison.Ordinal) ? endpoint["unix:".Length..]
        : endpoint;

    /// <summary>Whether a connection to <paramref name="socketPath"/> is accepted now: the moment a driver has started listening, or stopped.</summary>
    public static bool CanConnect(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _channel.Dispose();
}
