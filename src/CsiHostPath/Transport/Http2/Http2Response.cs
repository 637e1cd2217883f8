namespace CsiHostPath.Transport.Http2;

/// <summary>A complete response: status and headers, an optional body, and trailers sent after it (as gRPC needs).</summary>
internal sealed class Http2Response(int status, IReadOnlyList<KeyValuePair<string, string>> headers,
    ReadOnlyMemory<byte> body, IReadOnlyList<KeyValuePair<string, string>> trailers)
{
    public int Status { get; } = status;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers;

    public ReadOnlyMemory<byte> Body { get; } = body;

    public IReadOnlyList<KeyValuePair<string, string>> Trailers { get; } = trailers;
}
