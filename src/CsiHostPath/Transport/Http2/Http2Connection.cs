using System.Buffers;
using System.Buffers.Binary;
using CsiHostPath.Transport.Hpack;

namespace CsiHostPath.Transport.Http2;

/// <summary>
/// The server side of one HTTP/2 connection with prior knowledge (RFC 9113 §3.3), as gRPC clients open on a unix
/// socket. One loop reads frames; each request, once its body is complete, is answered on its own task. Only what
/// a unary exchange needs is here: no server push, no priorities, request bodies buffered whole.
/// </summary>
internal sealed partial class Http2Connection
{
    private const int MaxFrameSize = 16_384;
    private const int DefaultWindow = 65_535;

    private readonly Stream _transport;
    private readonly Stream _input;
    private readonly Http2FrameWriter _writer;
    private readonly IHttp2RequestHandler _handler;
    private readonly Http2Limits _limits;
    private readonly ILogger _logger;
    private readonly HpackDecoder _decoder;
    private readonly Http2SendWindow _sendWindow = new();
    private readonly Lock _streamsLock = new();
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _frameHeader = new byte[Http2FrameHeader.Size];
    private readonly byte[] _payload = new byte[MaxFrameSize];
    private readonly ArrayBufferWriter<byte> _headerBlock = new();
    // Frames the read loop owes the client (acks, window updates, resets), sent after each frame it handles.
    private readonly ArrayBufferWriter<byte> _replies = new();
    // Non-zero while a header block is split across HEADERS and CONTINUATION frames, which nothing may interleave.
    private int _headerBlockStreamId;
    private bool _headerBlockEndsStream;
    private int _lastStreamId;
    private bool _goingAway;
    // Streams still in _streams whose last frame is being written; guarded by _streamsLock.
    private int _answeredStreams;
    // GOAWAY may only follow the server's SETTINGS (§3.4); a connection stopped before that is simply closed.
    private volatile bool _prefaceSent;
    private volatile int _peerMaxFrameSize = MaxFrameSize;
    private long _receiveWindow;
    private int _pendingCredit;

    public Http2Connection(Stream transport, IHttp2RequestHandler handler, Http2Limits limits, ILogger logger)
    {
        _transport = transport;
        _input = new BufferedStream(transport, 32 << 10);
        _writer = new Http2FrameWriter(transport);
        _handler = handler;
        _limits = limits;
        _logger = logger;
        _decoder = new HpackDecoder(maxHeaderListSize: limits.MaxHeaderListSize);
        _receiveWindow = Math.Max(DefaultWindow, limits.ConnectionWindowSize);
    }

    private static ReadOnlySpan<byte> ClientPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Serves the connection until the client closes it, a connection error ends it, or <see cref="StopAsync"/> does.</summary>
    public async Task RunAsync()
    {
        try
        {
            await ReadPrefaceAsync();
            while (await ReadFrameAsync() is { } frame)
            {
                try
                {
                    HandleFrame(frame);
                }
                catch (Http2StreamException e)
                {
                    LogStreamError(_logger, e.StreamId, e.ErrorCode, e.Message);
                    CloseStream(e.StreamId)?.Abort();
                    _replies.Write(Http2Frames.RstStream(e.StreamId, e.ErrorCode));
                }
                await FlushRepliesAsync();
            }
        }
        catch (Http2ConnectionException e)
        {
            LogConnectionError(_logger, e.ErrorCode, e.Message);
            await TryWriteAsync(Http2Frames.GoAway(_lastStreamId, e.ErrorCode));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or StopAsync closed the transport: nothing is left to tell anyone.
        }
        finally
        {
            _sendWindow.Close();
            lock (_streamsLock)
            {
                foreach (var stream in _streams.Values)
                    stream.Abort();
            }
            await _transport.DisposeAsync();
        }
    }

    /// <summary>
    /// Graceful shutdown (§6.8): tells the client no new streams will be served, lets the ones already open finish
    /// until <paramref name="cancellationToken"/> fires, then closes the connection.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        int lastStreamId;
        lock (_streamsLock)
        {
            _goingAway = true;
            lastStreamId = _lastStreamId;
            if (_streams.Count == 0)
                _drained.TrySetResult();
        }
        if (!_prefaceSent)
        {
            await _transport.DisposeAsync();
            return;
        }
        await TryWriteAsync(Http2Frames.GoAway(lastStreamId, Http2ErrorCode.NoError));
        try
        {
            await _drained.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of time: the streams still open are cut off with the connection.
        }
        await _transport.DisposeAsync();
    }

    private async Task ReadPrefaceAsync()
    {
        var preface = new byte[ClientPreface.Length];
        await _input.ReadExactlyAsync(preface);
        if (!ClientPreface.SequenceEqual(preface))
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "not an HTTP/2 client preface");

        var serverPreface = new ArrayBufferWriter<byte>();
        serverPreface.Write(Http2Frames.Settings(
            (Http2SettingId.EnablePush, 0u),
            (Http2SettingId.MaxConcurrentStreams, (uint)_limits.MaxConcurrentStreams),
            (Http2SettingId.InitialWindowSize, (uint)_limits.StreamWindowSize),
            (Http2SettingId.MaxHeaderListSize, (uint)_limits.MaxHeaderListSize)));
        // The connection window starts at 65,535 (§6.9.2) and can only be raised, never set lower.
        if (_limits.ConnectionWindowSize > DefaultWindow)
            serverPreface.Write(Http2Frames.WindowUpdate(0, _limits.ConnectionWindowSize - DefaultWindow));
        await _writer.WriteAsync(serverPreface.WrittenMemory);
        _prefaceSent = true;

        var first = await ReadFrameAsync() ?? throw new EndOfStreamException();
        if (first.Type != Http2FrameType.Settings || first.Has(Http2FrameFlags.Ack))
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the client preface must end with SETTINGS");
        HandleFrame(first);
        await FlushRepliesAsync();
    }

    private async Task FlushRepliesAsync()
    {
        if (_replies.WrittenCount == 0)
            return;
        await _writer.WriteAsync(_replies.WrittenMemory);
        _replies.ResetWrittenCount();
    }

    /// <summary>Reads one frame into <see cref="_payload"/>; null when the client closed the connection between frames.</summary>
    private async Task<Http2FrameHeader?> ReadFrameAsync()
    {
        int read = await _input.ReadAtLeastAsync(_frameHeader, _frameHeader.Length, throwOnEndOfStream: false);
        if (read == 0)
            return null;
        if (read < _frameHeader.Length)
            throw new EndOfStreamException("the connection closed inside a frame header");
        var frame = Http2FrameHeader.Read(_frameHeader);
        if (frame.Length > MaxFrameSize)
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a {frame.Type} frame of {frame.Length} bytes");
        await _input.ReadExactlyAsync(_payload.AsMemory(0, frame.Length));
        return frame;
    }

    private void HandleFrame(Http2FrameHeader frame)
    {
        if (_headerBlockStreamId != 0 && frame.Type != Http2FrameType.Continuation)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} inside a header block");

        var payload = _payload.AsSpan(0, frame.Length);
        switch (frame.Type)
        {
            case Http2FrameType.Headers:
                OnHeaders(frame, payload);
                break;
            case Http2FrameType.Continuation:
                OnContinuation(frame, payload);
                break;
            case Http2FrameType.Data:
                OnData(frame, payload);
                break;
            case Http2FrameType.Settings:
                OnSettings(frame, payload);
                break;
            case Http2FrameType.Ping:
                OnPing(frame, payload);
                break;
            case Http2FrameType.WindowUpdate:
                OnWindowUpdate(frame, payload);
                break;
            case Http2FrameType.RstStream:
                OnRstStream(frame);
                break;
            case Http2FrameType.Priority:
                RequireLength(frame, 5);
                RequireStream(frame);
                break;
            case Http2FrameType.PushPromise:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a client cannot push");
            case Http2FrameType.GoAway:
                // The client closes the socket once it has its answers; nothing to do until then.
                RequireConnection(frame);
                break;
            default:
                // Unknown frame types are ignored (§4.1).
                break;
        }
    }

    private void OnHeaders(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        RequireStream(frame);
        if ((frame.StreamId & 1) == 0)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"stream {frame.StreamId} is even: clients open odd streams");
        var fragment = Unpad(frame, payload);
        if (frame.Has(Http2FrameFlags.Priority))
        {
            if (fragment.Length < 5)
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "HEADERS too short for its priority");
            fragment = fragment[5..];
        }
        _headerBlock.Write(fragment);
        _headerBlockStreamId = frame.StreamId;
        _headerBlockEndsStream = frame.Has(Http2FrameFlags.EndStream);
        if (frame.Has(Http2FrameFlags.EndHeaders))
            OnHeaderBlock();
    }

    private void OnContinuation(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        if (_headerBlockStreamId == 0 || frame.StreamId != _headerBlockStreamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "CONTINUATION without the HEADERS it continues");
        if (_headerBlock.WrittenCount + payload.Length > _limits.MaxHeaderListSize)
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, "header block over the header list limit");
        _headerBlock.Write(payload);
        if (frame.Has(Http2FrameFlags.EndHeaders))
            OnHeaderBlock();
    }

    private void OnHeaderBlock()
    {
        int streamId = _headerBlockStreamId;
        bool endStream = _headerBlockEndsStream;
        var fields = new List<KeyValuePair<string, string>>();
        try
        {
            // Decoded even when the stream is refused below: the decoder's table must follow every block.
            _decoder.Decode(_headerBlock.WrittenSpan, fields);
        }
        catch (HpackException e)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, e.Message);
        }
        finally
        {
            _headerBlock.ResetWrittenCount();
            _headerBlockStreamId = 0;
        }

        Http2Stream? trailersFor;
        lock (_streamsLock)
            _streams.TryGetValue(streamId, out trailersFor);
        if (trailersFor is not null)
        {
            OnTrailers(trailersFor, endStream);
            return;
        }

        if (streamId <= _lastStreamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"HEADERS on closed stream {streamId}");
        _lastStreamId = streamId;
        var stream = NewStream(streamId, fields);
        if (!TryOpen(stream))
        {
            _replies.Write(Http2Frames.RstStream(streamId, Http2ErrorCode.RefusedStream));
            return;
        }
        if (endStream)
        {
            stream.RemoteClosed = true;
            Dispatch(stream);
        }
    }

    private void OnTrailers(Http2Stream stream, bool endStream)
    {
        if (stream.RemoteClosed)
            throw new Http2StreamException(stream.Id, Http2ErrorCode.StreamClosed, "HEADERS after the end of the request");
        if (!endStream)
            throw new Http2StreamException(stream.Id, Http2ErrorCode.ProtocolError, "trailers must end the request");
        stream.RemoteClosed = true;
        if (!stream.Dispatched)
            Dispatch(stream);
    }

    private Http2Stream NewStream(int streamId, List<KeyValuePair<string, string>> fields)
    {
        string? method = null, path = null;
        var headers = new List<KeyValuePair<string, string>>(fields.Count);
        foreach (var field in fields)
        {
            if (!field.Key.StartsWith(':'))
            {
                headers.Add(field);
                continue;
            }
            if (headers.Count > 0)
                throw new Http2StreamException(streamId, Http2ErrorCode.ProtocolError, "a pseudo-header after a regular header");
            switch (field.Key)
            {
                case ":method":
                    method = field.Value;
                    break;
                case ":path":
                    path = field.Value;
                    break;
                case ":scheme" or ":authority":
                    break;
                default:
                    throw new Http2StreamException(streamId, Http2ErrorCode.ProtocolError, $"unknown pseudo-header {field.Key}");
            }
        }
        if (method is null || string.IsNullOrEmpty(path))
            throw new Http2StreamException(streamId, Http2ErrorCode.ProtocolError, "a request without :method or :path");
        return new Http2Stream(streamId, method, path, headers, _sendWindow.InitialStreamWindow);
    }

    private bool TryOpen(Http2Stream stream)
    {
        lock (_streamsLock)
        {
            if (_goingAway || _streams.Count - _answeredStreams >= _limits.MaxConcurrentStreams)
                return false;
            _streams.Add(stream.Id, stream);
            return true;
        }
    }

    private void OnData(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        RequireStream(frame);
        // Flow control counts the whole frame, padding included (§6.9.1).
        _receiveWindow -= frame.Length;
        if (_receiveWindow < 0)
            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "DATA beyond the connection window");
        var data = Unpad(frame, payload);

        Http2Stream? stream;
        lock (_streamsLock)
            _streams.TryGetValue(frame.StreamId, out stream);
        if (stream is null)
        {
            if (frame.StreamId > _lastStreamId)
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"DATA on idle stream {frame.StreamId}");
            // The stream was answered or reset while the client was still sending: drop what comes after.
            Credit(frame.Length);
            return;
        }
        if (stream.RemoteClosed)
        {
            Credit(frame.Length);
            throw new Http2StreamException(stream.Id, Http2ErrorCode.StreamClosed, "DATA after the end of the request");
        }
        stream.ReceivedBytes += frame.Length;
        if (stream.ReceivedBytes > _limits.StreamWindowSize)
            throw new Http2StreamException(stream.Id, Http2ErrorCode.FlowControlError, "DATA beyond the stream window");
        stream.RemoteClosed = frame.Has(Http2FrameFlags.EndStream);

        if (stream.Dispatched)
        {
            Credit(frame.Length);
            return;
        }
        stream.AppendBody(data, _limits.MaxRequestBodySize);
        if (stream.RemoteClosed || stream.BodyTooLarge)
            Dispatch(stream);
    }

    /// <summary>
    /// Hands a complete request (or one whose body is too large) to the handler on its own task, and gives the
    /// client back the connection window its body held.
    /// </summary>
    private void Dispatch(Http2Stream stream)
    {
        stream.Dispatched = true;
        _ = Task.Run(() => RespondAsync(stream));
        Credit(stream.ReceivedBytes);
    }

    /// <summary>WINDOW_UPDATEs are batched: one per quarter of the connection window rather than one per request.</summary>
    private void Credit(int bytes)
    {
        _pendingCredit += bytes;
        if (_pendingCredit < _limits.ConnectionWindowSize / 4)
            return;
        _receiveWindow += _pendingCredit;
        _replies.Write(Http2Frames.WindowUpdate(0, _pendingCredit));
        _pendingCredit = 0;
    }

    private async Task RespondAsync(Http2Stream stream)
    {
        try
        {
            var request = new Http2Request(stream.Method, stream.Path, stream.Headers, stream.Body, stream.BodyTooLarge, stream.Aborted);
            Http2Response response;
            try
            {
                response = await _handler.HandleAsync(request);
            }
            catch (Exception e) when (!stream.Aborted.IsCancellationRequested)
            {
                // Whatever the handler threw, the client is still waiting and must learn that no answer will come.
                LogHandlerFailed(_logger, e, stream.Id, stream.Path);
                await _writer.WriteAsync(Http2Frames.RstStream(stream.Id, Http2ErrorCode.InternalError));
                return;
            }
            await WriteResponseAsync(stream, response);
            if (!stream.RemoteClosed)
            {
                // Answered before the client finished sending (a body over the limit): it may stop now (§8.1).
                await _writer.WriteAsync(Http2Frames.RstStream(stream.Id, Http2ErrorCode.NoError));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client reset the stream or closed the connection: no one is left to answer.
        }
        finally
        {
            CloseStream(stream.Id);
        }
    }

    private async Task WriteResponseAsync(Http2Stream stream, Http2Response response)
    {
        int maxFrameSize = _peerMaxFrameSize;
        bool hasTrailers = response.Trailers.Count > 0;
        var body = response.Body;
        var block = new ArrayBufferWriter<byte>(128);
        var frames = new ArrayBufferWriter<byte>(256 + body.Length);

        if (response.Status == 200)
            HpackEncoder.WriteIndexed(HpackStaticTable.Status200, block);
        else
            HpackEncoder.WriteLiteralIndexedName(HpackStaticTable.Status200, response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), block);
        EncodeFields(response.Headers, block);
        Http2Frames.AppendHeaders(frames, stream.Id, block.WrittenSpan, endStream: body.IsEmpty && !hasTrailers, maxFrameSize);

        while (!body.IsEmpty)
        {
            int granted = await _sendWindow.ReserveAsync(stream, body.Length);
            Http2Frames.AppendData(frames, stream.Id, body.Span[..granted], endStream: granted == body.Length && !hasTrailers, maxFrameSize);
            body = body[granted..];
            if (!body.IsEmpty)
            {
                await _writer.WriteAsync(frames.WrittenMemory);
                frames.ResetWrittenCount();
            }
        }

        if (hasTrailers)
        {
            block.ResetWrittenCount();
            EncodeFields(response.Trailers, block);
            Http2Frames.AppendHeaders(frames, stream.Id, block.WrittenSpan, endStream: true, maxFrameSize);
        }
        stream.Aborted.ThrowIfCancellationRequested();
        MarkAnswered(stream);
        await _writer.WriteAsync(frames.WrittenMemory);
    }

    /// <summary>
    /// A stream stops counting against MAX_CONCURRENT_STREAMS as its last frame goes out: the client may open the
    /// next one as soon as it reads END_STREAM, which can be before this task removes the stream.
    /// </summary>
    private void MarkAnswered(Http2Stream stream)
    {
        lock (_streamsLock)
        {
            if (_streams.ContainsKey(stream.Id) && !stream.Answered)
            {
                stream.Answered = true;
                _answeredStreams++;
            }
        }
    }

    private static void EncodeFields(IReadOnlyList<KeyValuePair<string, string>> fields, IBufferWriter<byte> block)
    {
        foreach (var (name, value) in fields)
        {
            if (name == "content-type")
                HpackEncoder.WriteLiteralIndexedName(HpackStaticTable.ContentType, value, block);
            else
                HpackEncoder.WriteLiteral(name, value, block);
        }
    }

    private void OnSettings(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        RequireConnection(frame);
        if (frame.Has(Http2FrameFlags.Ack))
        {
            RequireLength(frame, 0);
            return;
        }
        if (payload.Length % 6 != 0)
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS length is not a multiple of 6");
        for (; !payload.IsEmpty; payload = payload[6..])
        {
            var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(payload);
            uint value = BinaryPrimitives.ReadUInt32BigEndian(payload[2..]);
            switch (id)
            {
                case Http2SettingId.EnablePush when value > 1:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH above 1");
                case Http2SettingId.InitialWindowSize when value > int.MaxValue:
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
                case Http2SettingId.InitialWindowSize:
                    lock (_streamsLock)
                        _sendWindow.SetInitialStreamWindow((int)value, _streams.Values);
                    break;
                case Http2SettingId.MaxFrameSize when value is < MaxFrameSize or > 16_777_215:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE of {value}");
                case Http2SettingId.MaxFrameSize:
                    _peerMaxFrameSize = (int)value;
                    break;
                default:
                    // The header table size does not matter to an encoder that never indexes; the rest bind clients.
                    break;
            }
        }
        _replies.Write(Http2Frames.SettingsAck());
    }

    private void OnPing(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        RequireConnection(frame);
        RequireLength(frame, 8);
        if (!frame.Has(Http2FrameFlags.Ack))
            _replies.Write(Http2Frames.PingAck(payload));
    }

    private void OnWindowUpdate(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        RequireLength(frame, 4);
        int increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7fff_ffff);
        if (frame.StreamId == 0)
        {
            if (increment == 0)
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
            _sendWindow.AddToConnection(increment);
            return;
        }
        if (increment == 0)
            throw new Http2StreamException(frame.StreamId, Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0");
        Http2Stream? stream;
        lock (_streamsLock)
            _streams.TryGetValue(frame.StreamId, out stream);
        if (stream is not null)
            _sendWindow.AddToStream(stream, increment);
    }

    private void OnRstStream(Http2FrameHeader frame)
    {
        RequireStream(frame);
        RequireLength(frame, 4);
        if (frame.StreamId > _lastStreamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"RST_STREAM on idle stream {frame.StreamId}");
        CloseStream(frame.StreamId)?.Abort();
    }

    private Http2Stream? CloseStream(int streamId)
    {
        lock (_streamsLock)
        {
            if (_streams.Remove(streamId, out var stream) && stream.Answered)
                _answeredStreams--;
            if (_goingAway && _streams.Count == 0)
                _drained.TrySetResult();
            return stream;
        }
    }

    private static ReadOnlySpan<byte> Unpad(Http2FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        if (!frame.Has(Http2FrameFlags.Padded))
            return payload;
        if (payload.IsEmpty || payload[0] >= payload.Length)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} padding longer than the frame");
        return payload[1..^payload[0]];
    }

    private static void RequireLength(Http2FrameHeader frame, int length)
    {
        if (frame.Length != length)
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"{frame.Type} of {frame.Length} bytes, not {length}");
    }

    private static void RequireConnection(Http2FrameHeader frame)
    {
        if (frame.StreamId != 0)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} on stream {frame.StreamId}");
    }

    private static void RequireStream(Http2FrameHeader frame)
    {
        if (frame.StreamId == 0)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} on stream 0");
    }

    private async Task TryWriteAsync(byte[] frame)
    {
        try
        {
            await _writer.WriteAsync(frame);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The connection is already gone; the frame was only a courtesy.
        }
    }
}
