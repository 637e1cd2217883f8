using System.Buffers.Binary;

namespace CsiHostPath.Transport.Http2;

/// <summary>The 9-octet header every frame starts with (RFC 9113 §4.1).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, Http2FrameFlags Flags, int StreamId)
{
    public const int Size = 9;

    public bool Has(Http2FrameFlags flag) => (Flags & flag) == flag;

    public static Http2FrameHeader Read(ReadOnlySpan<byte> source) => new(
        source[0] << 16 | source[1] << 8 | source[2],
        (Http2FrameType)source[3],
        (Http2FrameFlags)source[4],
        (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7fff_ffff));

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)StreamId);
    }
}
