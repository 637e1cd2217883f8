using System.Buffers.Binary;
using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>
/// The length-prefixed message framing of gRPC over HTTP/2: a compressed flag, a 4-byte big-endian length, the
/// serialized message. A unary call carries exactly one in each direction.
/// </summary>
internal static class GrpcMessage
{
    public const int PrefixSize = 5;

    /// <summary>The message inside a unary request body; a body that is not exactly one message fails the call.</summary>
    public static ReadOnlyMemory<byte> Unwrap(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (span.Length < PrefixSize)
            throw new RpcException(new Status(StatusCode.Internal, "the request carries no gRPC message"));
        if (span[0] != 0)
            throw new RpcException(new Status(StatusCode.Unimplemented, "compressed messages are not supported"));
        uint length = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
        if (length != (uint)(span.Length - PrefixSize))
        {
            throw new RpcException(new Status(StatusCode.Internal,
                $"the request body holds {span.Length - PrefixSize} bytes after a prefix announcing {length}: a unary call carries one message"));
        }
        return body[PrefixSize..];
    }

    public static void WritePrefix(Span<byte> destination, int messageLength)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)messageLength);
    }
}
