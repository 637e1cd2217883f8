namespace CsiHostPath.Transport.Http2;

/// <summary>What one client connection may make the server hold.</summary>
internal sealed record Http2Limits
{
    public int MaxConcurrentStreams { get; init; } = 100;

    /// <summary>A body past this is dropped as it arrives and the request is handed over marked too large.</summary>
    public int MaxRequestBodySize { get; init; } = (1 << 20) + 5;

    public int MaxHeaderListSize { get; init; } = 64 << 10;

    /// <summary>Bodies are buffered whole, so a stream's window never needs topping up if it exceeds the body limit.</summary>
    public int StreamWindowSize => MaxRequestBodySize + (16 << 10);

    /// <summary>Bounds the request bytes buffered on one connection and not yet handed to a handler.</summary>
    public int ConnectionWindowSize { get; init; } = 4 << 20;
}
