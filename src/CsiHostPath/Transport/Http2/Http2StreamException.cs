namespace CsiHostPath.Transport.Http2;

/// <summary>A stream error (RFC 9113 §5.4.2): only that stream ends, with an RST_STREAM carrying <see cref="ErrorCode"/>.</summary>
internal sealed class Http2StreamException(int streamId, Http2ErrorCode errorCode, string message) : Exception(message)
{
    public int StreamId { get; } = streamId;

    public Http2ErrorCode ErrorCode { get; } = errorCode;
}
