using System.Net.Sockets;
using Csi.V1;
using Grpc.Net.Client;

namespace CsiHostPath.Bench.Csi;

/// <summary>One client connection to a CSI endpoint over its unix socket, as kubelet or a sidecar holds one.</summary>
public sealed class CsiConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    public CsiConnection(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
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
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler });
        Identity = new Identity.IdentityClient(_channel);
        Controller = new Controller.ControllerClient(_channel);
        Node = new Node.NodeClient(_channel);
    }

    public Identity.IdentityClient Identity { get; }

    public Controller.ControllerClient Controller { get; }

    public Node.NodeClient Node { get; }

    /// <summary>Accepts the forms kubelet and the sidecars take: unix:///abs/path, unix:/abs/path or a bare path.</summary>
    public static string SocketPathOf(string endpoint) =>
        endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..]
        : endpoint.StartsWith("unix:", StringComparison.Ordinal) ? endpoint["unix:".Length..]
        : endpoint;

    public void Dispose() => _channel.Dispose();
}
