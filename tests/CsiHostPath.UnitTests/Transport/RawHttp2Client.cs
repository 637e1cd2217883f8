using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using CsiHostPath.Transport.Hpack;
using CsiHostPath.Transport.Http2;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// An HTTP/2 client driven by hand, frame by frame, over a real unix socket: tests decide exactly what goes on the
/// wire, including what a real client would never send. Frames are laid out and header blocks coded with the
/// driver's own <see cref="Http2Frames"/> and HPACK codec, which have tests of their own.
/// Every frame read is also filed under its stream (<see cref="Response"/>), so a test can wait for one stream
/// while frames of others arrive in between.
/// </summary>
internal sealed class RawHttp2Client : IAsyncDisposable
{
    /// <summary>Only a safety net: every wait in these tests ends on a frame or EOF long before this.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    // One decoder for the connection, fed every header block in the order received, as HPACK requires.
    private readonly HpackDecoder _decoder = new();
    private readonly Dictionary<int, RawResponse> _responses = [];
    private readonly List<RawFrame> _frames = [];
    private readonly List<int> _completed = [];
    private readonly Dictionary<Http2SettingId, uint> _serverSettings = [];
    private readonly ArrayBufferWriter<byte> _headerBlock = new();
    private int _headerBlockStreamId;
    private bool _headerBlockEndsStream;

    private RawHttp2Client(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Every frame received, in order.</summary>
    public IReadOnlyList<RawFrame> Frames => _frames;

    /// <summary>Streams in the order their responses ended (END_STREAM or RST_STREAM).</summary>
    public IReadOnlyList<int> CompletedStreams => _completed;

    /// <summary>The server's SETTINGS, once <see cref="HandshakeAsync"/> has read them.</summary>
    public IReadOnlyDictionary<Http2SettingId, uint> ServerSettings => _serverSettings;

    /// <summary>Connects without sending anything, so a test may start with a bad preface.</summary>
    public static async Task<RawHttp2Client> ConnectAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath)).WaitAsync(Timeout);
            return new RawHttp2Client(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends the client preface with <paramref name="settings"/>, then reads until the server's SETTINGS (which it
    /// acknowledges) and the acknowledgement of its own have both arrived.
    /// </summary>
    public async Task HandshakeAsync(params (Http2SettingId Id, uint Value)[] settings)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(Preface);
        output.Write(Http2Frames.Settings(settings));
        await SendAsync(output.WrittenMemory);

        bool settingsSeen = false, ackSeen = false;
        while (!(settingsSeen && ackSeen))
        {
            var frame = await ReadFrameAsync() ?? throw new EndOfStreamException("the connection closed during the handshake");
            if (frame.Type != Http2FrameType.Settings)
                continue;
            if (frame.Has(Http2FrameFlags.Ack))
            {
                ackSeen = true;
                continue;
            }
            for (int offset = 0; offset < frame.Payload.Length; offset += 6)
            {
                var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(frame.Payload.AsSpan(offset));
                _serverSettings[id] = BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(offset + 2));
            }
            settingsSeen = true;
            await SendAsync(Http2Frames.SettingsAck());
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    public Task SendFrameAsync(Http2FrameType type, Http2FrameFlags flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var output = new ArrayBufferWriter<byte>();
        Http2Frames.Append(output, type, flags, streamId, payload);
        return SendAsync(output.WrittenMemory);
    }

    /// <summary>A header block as a client sends it: every field a literal without indexing.</summary>
    public static byte[] EncodeHeaderBlock(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var block = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in fields)
            HpackEncoder.WriteLiteral(name, value, block);
        return block.WrittenSpan.ToArray();
    }

    /// <summary>The fields of a POST to <paramref name="path"/>, pseudo-headers first, then <paramref name="headers"/>.</summary>
    public static List<KeyValuePair<string, string>> RequestFields(string path, params (string Name, string Value)[] headers)
    {
        List<KeyValuePair<string, string>> fields =
            [new(":method", "POST"), new(":scheme", "http"), new(":path", path), new(":authority", "localhost")];
        fields.AddRange(headers.Select(header => new KeyValuePair<string, string>(header.Name, header.Value)));
        return fields;
    }

    /// <summary>One HEADERS frame carrying the whole block.</summary>
    public Task SendHeadersAsync(int streamId, IEnumerable<KeyValuePair<string, string>> fields, bool endStream)
    {
        var flags = Http2FrameFlags.EndHeaders | (endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None);
        return SendFrameAsync(Http2FrameType.Headers, flags, streamId, EncodeHeaderBlock(fields));
    }

    public Task SendDataAsync(int streamId, ReadOnlySpan<byte> data, bool endStream) =>
        SendFrameAsync(Http2FrameType.Data, endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId, data);

    /// <summary>A complete request: HEADERS, then the body in one DATA frame ending the stream.</summary>
    public async Task SendRequestAsync(int streamId, string path, ReadOnlyMemory<byte> body, params (string Name, string Value)[] headers)
    {
        await SendHeadersAsync(streamId, RequestFields(path, headers), endStream: false);
        await SendDataAsync(streamId, body.Span, endStream: true);
    }

    public Task SendWindowUpdateAsync(int streamId, int increment) => SendAsync(Http2Frames.WindowUpdate(streamId, increment));

    public Task SendRstStreamAsync(int streamId, Http2ErrorCode errorCode) => SendAsync(Http2Frames.RstStream(streamId, errorCode));

    public Task SendPingAsync(ReadOnlySpan<byte> opaqueData) =>
        SendFrameAsync(Http2FrameType.Ping, Http2FrameFlags.None, 0, opaqueData);

    /// <summary>
    /// A round trip through the server's read loop: once the PING's ACK is back, the server has acted on every frame
    /// sent before it, so whatever it would send in answer without waiting for anything else has been sent.
    /// </summary>
    public async Task PingRoundTripAsync()
    {
        byte[] opaque = Guid.NewGuid().ToByteArray()[..8];
        await SendPingAsync(opaque);
        await ReadUntilAsync(frame => frame.Type == Http2FrameType.Ping && frame.Has(Http2FrameFlags.Ack) && frame.Payload.SequenceEqual(opaque));
    }

    /// <summary>What has arrived on <paramref name="streamId"/> so far (an empty response if nothing has).</summary>
    public RawResponse Response(int streamId)
    {
        if (!_responses.TryGetValue(streamId, out var response))
            _responses.Add(streamId, response = new RawResponse(streamId));
        return response;
    }

    /// <summary>Reads until the response on <paramref name="streamId"/> has ended, with END_STREAM or RST_STREAM.</summary>
    public async Task<RawResponse> ReadResponseAsync(int streamId)
    {
        var response = Response(streamId);
        if (!response.IsComplete)
            await ReadUntilAsync(_ => response.IsComplete);
        return response;
    }

    /// <summary>Reads frames until one satisfies <paramref name="predicate"/>, which sees each after it has been filed.</summary>
    public async Task<RawFrame> ReadUntilAsync(Func<RawFrame, bool> predicate)
    {
        while (true)
        {
            var frame = await ReadFrameAsync()
                ?? throw new EndOfStreamException("the server closed the connection before the frame awaited; received: " + string.Join(", ", _frames));
            if (predicate(frame))
                return frame;
        }
    }

    /// <summary>Reads up to the server's end of the connection, returning the frames that came before it.</summary>
    public async Task<List<RawFrame>> ReadToEndAsync()
    {
        var frames = new List<RawFrame>();
        while (await ReadFrameAsync() is { } frame)
            frames.Add(frame);
        return frames;
    }

    /// <summary>One frame, or null on a clean end of the connection between frames.</summary>
    public async Task<RawFrame?> ReadFrameAsync()
    {
        var header = new byte[Http2FrameHeader.Size];
        int read = await ReadAsync(header, allowEnd: true);
        if (read == 0)
            return null;
        var frame = Http2FrameHeader.Read(header);
        var payload = new byte[frame.Length];
        await ReadAsync(payload, allowEnd: false);
        var raw = new RawFrame(frame, payload);
        _frames.Add(raw);
        File(raw);
        return raw;
    }

    /// <summary>Closes the sending direction only: the server sees the end of the connection and can still answer.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();

    private async Task<int> ReadAsync(byte[] buffer, bool allowEnd)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            int read = await _stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, timeout.Token);
            if (read == buffer.Length || (read == 0 && allowEnd))
                return read;
            throw new EndOfStreamException($"the connection ended {read} bytes into a {buffer.Length}-byte read");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing from the server within {Timeout}; received so far: " + string.Join(", ", _frames));
        }
    }

    private void File(RawFrame frame)
    {
        switch (frame.Type)
        {
            case Http2FrameType.Headers:
                Assert.Equal(0, _headerBlockStreamId);
                _headerBlockStreamId = frame.StreamId;
                _headerBlockEndsStream = frame.Has(Http2FrameFlags.EndStream);
                // The server sends neither padding nor priorities; a fragment is the whole payload.
                _headerBlock.Write(frame.Payload);
                if (frame.Has(Http2FrameFlags.EndHeaders))
                    EndHeaderBlock();
                break;
            case Http2FrameType.Continuation:
                Assert.Equal(_headerBlockStreamId, frame.StreamId);
                _headerBlock.Write(frame.Payload);
                if (frame.Has(Http2FrameFlags.EndHeaders))
                    EndHeaderBlock();
                break;
            case Http2FrameType.Data:
                Response(frame.StreamId).AppendBody(frame.Payload);
                if (frame.Has(Http2FrameFlags.EndStream))
                    End(Response(frame.StreamId));
                break;
            case Http2FrameType.RstStream:
                var reset = Response(frame.StreamId);
                bool wasComplete = reset.IsComplete;
                reset.ResetCode = frame.ErrorCode;
                if (!wasComplete)
                    _completed.Add(frame.StreamId);
                break;
        }
    }

    private void EndHeaderBlock()
    {
        var fields = new List<KeyValuePair<string, string>>();
        _decoder.Decode(_headerBlock.WrittenSpan, fields);
        var response = Response(_headerBlockStreamId);
        if (response.Headers is null)
            response.Headers = fields;
        else
            response.Trailers = fields;
        if (_headerBlockEndsStream)
            End(response);
        _headerBlock.ResetWrittenCount();
        _headerBlockStreamId = 0;
    }

    private void End(RawResponse response)
    {
        Assert.False(response.IsComplete, $"stream {response.StreamId} ended twice");
        response.EndStream = true;
        _completed.Add(response.StreamId);
    }
}
