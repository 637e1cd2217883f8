using System.Buffers;
using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>Lets the generated protobuf deserializer parse straight from the request body, without a copy.</summary>
internal sealed class MessageReader(ReadOnlyMemory<byte> payload) : DeserializationContext
{
    public override int PayloadLength => payload.Length;

    public override byte[] PayloadAsNewBuffer() => payload.ToArray();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(payload);
}
