using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>One unary method, from request message bytes to the framed response message.</summary>
internal interface IGrpcMethod
{
    Task<ReadOnlyMemory<byte>> InvokeAsync(ReadOnlyMemory<byte> requestMessage, ServerCallContext context);
}
