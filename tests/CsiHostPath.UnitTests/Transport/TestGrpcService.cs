using CsiHostPath.Grpc;
using CsiHostPath.Transport.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// Two unary methods on raw bytes, bound the way generated CSI services are, behind the driver's own interceptor:
/// enough to reach every branch of the gRPC layer without the CSI services' dependencies.
/// </summary>
internal static class TestGrpcService
{
    public const string EchoPath = "/test.Echo/Echo";

    public const string FailPath = "/test.Echo/Fail";

    /// <summary>Non-ASCII, a '%' and a control character: each must leave percent-encoded.</summary>
    public const string FailDetail = "na\u00efve: 100% sure\n";

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static (byte[] value) => value, static bytes => bytes);

    public static GrpcMethodTable CreateMethodTable()
    {
        var methods = new GrpcMethodTable(new ErrorMappingInterceptor(NullLogger<ErrorMappingInterceptor>.Instance));
        methods.AddMethod(new Method<byte[], byte[]>(MethodType.Unary, "test.Echo", "Echo", Bytes, Bytes),
            new UnaryServerMethod<byte[], byte[]>(static (request, _) => Task.FromResult(request)));
        methods.AddMethod(new Method<byte[], byte[]>(MethodType.Unary, "test.Echo", "Fail", Bytes, Bytes),
            new UnaryServerMethod<byte[], byte[]>(static (_, _) => throw new RpcException(new Status(StatusCode.FailedPrecondition, FailDetail))));
        return methods;
    }
}
