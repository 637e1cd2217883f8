using System.Buffers;
using System.Buffers.Binary;

namespace CsiHostPath.Transport.Http2;

/// <summary>Lays out outgoing frames (RFC 9113 §6), so a response's frames can leave in one write.</summary>
internal static class Http2Frames
{
    public static void Append(IBufferWriter<byte> output, Http2FrameType type, Http2FrameFlags flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(Http2FrameHeader.Size + payload.Length);
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(span);
        payload.CopyTo(span[Http2FrameHeader.Size..]);
        output.Advance(Http2FrameHeader.Size + payload.Length);
    }

    /// <summary>A header block larger than the client's frame size goes on in CONTINUATION frames (§6.10).</summary>
    public static void AppendHeaders(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> headerBlock, bool endStream, int maxFrameSize)
    {
        var type = Http2FrameType.Headers;
        var flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        do
        {
            var fragment = headerBlock[..Math.Min(headerBlock.Length, maxFrameSize)];
            headerBlock = headerBlock[fragment.Length..];
            Append(output, type, headerBlock.IsEmpty ? flags | Http2FrameFlags.EndHeaders : flags, streamId, fragment);
            type = Http2FrameType.Continuation;
            flags = Http2FrameFlags.None;
        }
        while (!headerBlock.IsEmpty);
    }

    public static void AppendData(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> data, bool endStream, int maxFrameSize)
    {
        do
        {
            var chunk = data[..Math.Min(data.Length, maxFrameSize)];
            data = data[chunk.Length..];
            Append(output, Http2FrameType.Data, endStream && data.IsEmpty ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId, chunk);
        }
        while (!data.IsEmpty);
    }

    public static byte[] Settings(params ReadOnlySpan<(Http2SettingId Id, uint Value)> settings)
    {
        Span<byte> payload = stackalloc byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload[(6 * i)..], (ushort)settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload[(6 * i + 2)..], settings[i].Value);
        }
        return Single(Http2FrameType.Settings, Http2FrameFlags.None, 0, payload);
    }

    public static byte[] SettingsAck() => Single(Http2FrameType.Settings, Http2FrameFlags.Ack, 0, []);

    public static byte[] PingAck(ReadOnlySpan<byte> opaqueData) => Single(Http2FrameType.Ping, Http2FrameFlags.Ack, 0, opaqueData);

    public static byte[] WindowUpdate(int streamId, int increment)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        return Single(Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId, payload);
    }

    public static byte[] RstStream(int streamId, Http2ErrorCode errorCode)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)errorCode);
        return Single(Http2FrameType.RstStream, Http2FrameFlags.None, streamId, payload);
    }

    public static byte[] GoAway(int lastStreamId, Http2ErrorCode errorCode)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)errorCode);
        return Single(Http2FrameType.GoAway, Http2FrameFlags.None, 0, payload);
    }

    private static byte[] Single(Http2FrameType type, Http2FrameFlags flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }
}
