namespace CsiHostPath.Transport.Http2;

/// <summary>
/// Flow control for what the server sends (RFC 9113 §6.9): the connection's window and every stream's, with
/// writers waiting here until the client's WINDOW_UPDATE or SETTINGS frames open them again.
/// </summary>
internal sealed class Http2SendWindow
{
    private const int DefaultWindow = 65_535;
    private const long MaxWindow = int.MaxValue;

    private readonly Lock _lock = new();
    private long _connection = DefaultWindow;
    private int _initialStreamWindow = DefaultWindow;
    private TaskCompletionSource _changed = NewSignal();
    private bool _closed;

    public int InitialStreamWindow
    {
        get
        {
            lock (_lock)
                return _initialStreamWindow;
        }
    }

    public void AddToConnection(int increment)
    {
        lock (_lock)
        {
            if (_connection + increment > MaxWindow)
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "connection window above 2^31-1");
            _connection += increment;
            Signal();
        }
    }

    public void AddToStream(Http2Stream stream, int increment)
    {
        lock (_lock)
        {
            if (stream.SendWindow + increment > MaxWindow)
                throw new Http2StreamException(stream.Id, Http2ErrorCode.FlowControlError, "stream window above 2^31-1");
            stream.SendWindow += increment;
            Signal();
        }
    }

    /// <summary>A new SETTINGS_INITIAL_WINDOW_SIZE shifts the windows of streams already open by the difference (§6.9.2).</summary>
    public void SetInitialStreamWindow(int value, IEnumerable<Http2Stream> openStreams)
    {
        lock (_lock)
        {
            int delta = value - _initialStreamWindow;
            _initialStreamWindow = value;
            foreach (var stream in openStreams)
            {
                if (stream.SendWindow + delta > MaxWindow)
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "stream window above 2^31-1");
                stream.SendWindow += delta;
            }
            Signal();
        }
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of both windows, waiting while either is empty.</summary>
    public async ValueTask<int> ReserveAsync(Http2Stream stream, int wanted)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_closed)
                    throw new OperationCanceledException("the connection closed");
                long granted = Math.Min(wanted, Math.Min(_connection, stream.SendWindow));
                if (granted > 0)
                {
                    _connection -= granted;
                    stream.SendWindow -= granted;
                    return (int)granted;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(stream.Aborted);
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Signal();
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
