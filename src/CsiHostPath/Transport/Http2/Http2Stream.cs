namespace CsiHostPath.Transport.Http2;

/// <summary>
/// One request/response exchange on a connection. The read loop fills it in; a handler task answers it.
/// <see cref="SendWindow"/> is guarded by the connection's <see cref="Http2SendWindow"/>.
/// </summary>
internal sealed class Http2Stream(int id, string method, string path, List<KeyValuePair<string, string>> headers, long sendWindow)
{
    private byte[] _body = [];
    private int _bodyLength;
    private readonly CancellationTokenSource _aborted = new();

    public int Id { get; } = id;

    public string Method { get; } = method;

    public string Path { get; } = path;

    public List<KeyValuePair<string, string>> Headers { get; } = headers;

    /// <summary>Request bytes received, counted against the window this stream was given.</summary>
    public int ReceivedBytes { get; set; }

    public bool RemoteClosed { get; set; }

    public bool Dispatched { get; set; }

    public bool BodyTooLarge { get; private set; }

    /// <summary>Its last frame is on the way out; guarded by the connection's stream lock.</summary>
    public bool Answered { get; set; }

    public long SendWindow { get; set; } = sendWindow;

    public CancellationToken Aborted => _aborted.Token;

    public ReadOnlyMemory<byte> Body => _body.AsMemory(0, _bodyLength);

    public void AppendBody(ReadOnlySpan<byte> data, int maxBodySize)
    {
        if (BodyTooLarge)
            return;
        if (_bodyLength + data.Length > maxBodySize)
        {
            BodyTooLarge = true;
            _body = [];
            _bodyLength = 0;
            return;
        }
        // A unary request's body nearly always comes in one DATA frame; the exact size then avoids a copy later.
        if (_bodyLength + data.Length > _body.Length)
            Array.Resize(ref _body, Math.Max(_bodyLength + data.Length, _bodyLength == 0 ? 0 : _body.Length * 2));
        data.CopyTo(_body.AsSpan(_bodyLength));
        _bodyLength += data.Length;
    }

    public void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by a handler failed; the stream is gone either way.
        }
    }
}
