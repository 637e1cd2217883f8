using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CsiHostPath.Transport.Grpc;

/// <summary>
/// The methods a server answers, keyed by their HTTP/2 path ("/csi.v1.Node/NodePublishVolume"). Generated
/// services register through <c>BindService(ServiceBinderBase, …)</c>, which needs no reflection; every CSI method
/// is unary, so the streaming overloads keep the base class's refusal.
/// </summary>
internal sealed class GrpcMethodTable(Interceptor interceptor) : ServiceBinderBase
{
    private readonly Dictionary<string, IGrpcMethod> _methods = new(StringComparer.Ordinal);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _methods.Add(method.FullName, new UnaryMethod<TRequest, TResponse>(method, handler, interceptor));
    }

    public bool TryFind(string path, out IGrpcMethod method) => _methods.TryGetValue(path, out method!);
}
