using System.Buffers.Binary;
using CsiHostPath.Transport.Http2;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>One frame as the raw client received it.</summary>
internal sealed record RawFrame(Http2FrameHeader Header, byte[] Payload)
{
    public Http2FrameType Type => Header.Type;

    public int StreamId => Header.StreamId;

    public bool Has(Http2FrameFlags flag) => Header.Has(flag);

    /// <summary>The error code of a RST_STREAM (first 4 octets) or a GOAWAY (octets 4 to 8).</summary>
    public Http2ErrorCode ErrorCode => Type switch
    {
        Http2FrameType.RstStream => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Payload),
        Http2FrameType.GoAway => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(4)),
        _ => throw new InvalidOperationException($"a {Type} frame carries no error code"),
    };

    public int GoAwayLastStreamId => Type == Http2FrameType.GoAway
        ? (int)(BinaryPrimitives.ReadUInt32BigEndian(Payload) & 0x7fff_ffff)
        : throw new InvalidOperationException($"a {Type} frame is not a GOAWAY");

    public override string ToString() => $"{Type} stream={StreamId} flags={Header.Flags} length={Header.Length}";
}
