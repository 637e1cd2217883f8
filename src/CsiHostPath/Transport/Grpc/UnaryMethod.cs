using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CsiHostPath.Transport.Grpc;

/// <summary>A generated service's unary method with its marshallers, called through the interceptor.</summary>
internal sealed class UnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method,
    UnaryServerMethod<TRequest, TResponse> handler, Interceptor interceptor) : IGrpcMethod
    where TRequest : class
    where TResponse : class
{
    public async Task<ReadOnlyMemory<byte>> InvokeAsync(ReadOnlyMemory<byte> requestMessage, ServerCallContext context)
    {
        var request = method.RequestMarshaller.ContextualDeserializer(new MessageReader(requestMessage));
        var response = await interceptor.UnaryServerHandler(request, context, handler);
        var writer = new MessageWriter();
        method.ResponseMarshaller.ContextualSerializer(response, writer);
        return writer.Message;
    }
}
