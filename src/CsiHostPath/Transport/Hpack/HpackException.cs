namespace CsiHostPath.Transport.Hpack;

/// <summary>
/// A malformed header block. The HTTP/2 layer turns it into a connection error COMPRESSION_ERROR: after a failed
/// block the decoder's dynamic table no longer matches the peer's, so the connection cannot go on.
/// </summary>
internal sealed class HpackException(string message) : Exception(message);
