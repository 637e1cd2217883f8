namespace CsiHostPath.Transport.Http2;

/// <summary>A connection error (RFC 9113 §5.4.1): the connection ends with a GOAWAY carrying <see cref="ErrorCode"/>.</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode errorCode, string message) : Exception(message)
{
    public Http2ErrorCode ErrorCode { get; } = errorCode;
}
