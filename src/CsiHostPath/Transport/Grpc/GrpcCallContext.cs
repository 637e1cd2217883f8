using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>What a unary handler may ask about its call. CSI handlers use the method name and the cancellation.</summary>
internal sealed class GrpcCallContext(string method, CancellationToken cancellationToken) : ServerCallContext
{
    protected override string MethodCore => method;

    protected override string HostCore => "localhost";

    protected override string PeerCore => "unix:";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    // CSI carries everything, secrets included, in the request messages; no handler reads metadata.
    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a CSI driver makes no onward gRPC calls");

    // Unary responses carry their headers with the message; nothing can go ahead of it.
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
