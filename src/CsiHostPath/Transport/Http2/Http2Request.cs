namespace CsiHostPath.Transport.Http2;

/// <summary>
/// A request whose body has arrived in full, or, when <see cref="BodyTooLarge"/> is set, one whose body passed the
/// connection's limit and was dropped: the handler answers it without reading it.
/// </summary>
internal sealed class Http2Request(string method, string path, IReadOnlyList<KeyValuePair<string, string>> headers,
    ReadOnlyMemory<byte> body, bool bodyTooLarge, CancellationToken aborted)
{
    public string Method { get; } = method;

    public string Path { get; } = path;

    /// <summary>Regular header fields in arrival order; pseudo-headers are in <see cref="Method"/> and <see cref="Path"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers;

    public ReadOnlyMemory<byte> Body { get; } = body;

    public bool BodyTooLarge { get; } = bodyTooLarge;

    /// <summary>Cancelled when the client resets the stream or the connection closes.</summary>
    public CancellationToken Aborted { get; } = aborted;

    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (key == name)
                return value;
        }
        return null;
    }
}
