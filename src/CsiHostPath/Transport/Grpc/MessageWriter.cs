using System.Buffers;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>
/// Receives a response from the generated protobuf serializer and frames it as the gRPC message the response body
/// is: the prefix slot is reserved first and filled in once the length is known.
/// </summary>
internal sealed class MessageWriter : SerializationContext
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public MessageWriter()
    {
        _buffer.GetSpan(GrpcMessage.PrefixSize);
        _buffer.Advance(GrpcMessage.PrefixSize);
    }

    public ReadOnlyMemory<byte> Message => _buffer.WrittenMemory;

    public override void SetPayloadLength(int payloadLength) => _buffer.GetSpan(payloadLength);

    public override IBufferWriter<byte> GetBufferWriter() => _buffer;

    // ArrayBufferWriter hands out what was written read-only; the prefix slot is ours to fill.
    public override void Complete() =>
        GrpcMessage.WritePrefix(MemoryMarshal.AsMemory(_buffer.WrittenMemory).Span, _buffer.WrittenCount - GrpcMessage.PrefixSize);

    public override void Complete(byte[] payload)
    {
        _buffer.Write(payload);
        Complete();
    }
}
