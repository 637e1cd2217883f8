using System.Text;
using CsiHostPath.Transport.Http2;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// <see cref="Http2Connection"/> at the protocol level: a real unix socket, a client driven frame by frame, and
/// assertions on what that client receives. Waits end on frames, never on time; a PING round trip stands in for
/// "the server has sent all it is going to send" where a test asserts that something did not arrive.
/// </summary>
public sealed class Http2ConnectionTests
{
    [Fact]
    public async Task RunAsync_HeaderBlockInContinuationAndBodyInTwoDataFrames_HandlerGetsWholeRequestAndClientDecodesResponse()
    {
        var handler = new TestRequestHandler(request =>
            Task.FromResult(TestRequestHandler.Ok(request.Body.ToArray(), ("x-trailer", "done"))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();

        byte[] block = RawHttp2Client.EncodeHeaderBlock(RawHttp2Client.RequestFields("/test/Echo", ("x-test", "hello")));
        // Split inside a field: only a decoder that waits for the whole block gets it right.
        int split = block.Length / 2;
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.None, 1, block.AsSpan(0, split));
        await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 1, block.AsSpan(split));
        await client.SendDataAsync(1, "first half, "u8, endStream: false);
        await client.SendDataAsync(1, "second half"u8, endStream: true);

        var request = await handler.NextCallAsync();
        var response = await client.ReadResponseAsync(1);

        Assert.Equal("POST", request.Method);
        Assert.Equal("/test/Echo", request.Path);
        Assert.Equal("hello", request.Header("x-test"));
        Assert.Equal("first half, second half", Encoding.ASCII.GetString(request.Body.Span));
        Assert.False(request.BodyTooLarge);
        Assert.Equal("200", response.Status);
        Assert.Equal("application/octet-stream", response.Header("content-type"));
        Assert.Equal("first half, second half", Encoding.ASCII.GetString(response.Body));
        Assert.Equal(new KeyValuePair<string, string>[] { new("x-trailer", "done") }, response.Trailers);
        Assert.True(response.EndStream);
        Assert.Null(response.ResetCode);
    }

    [Fact]
    public async Task WriteResponse_ClientStreamWindowOf1000_SendsOnly1000BytesUntilStreamWindowUpdate()
    {
        byte[] body = Pattern(5_000);
        var handler = new TestRequestHandler(_ => Task.FromResult(TestRequestHandler.Ok(body, ("x-trailer", "done"))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync((Http2SettingId.InitialWindowSize, 1_000));

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/big"), endStream: true);
        var response = client.Response(1);
        await client.ReadUntilAsync(_ => response.BodyLength >= 1_000);
        await client.PingRoundTripAsync();

        Assert.Equal(1_000, response.BodyLength);
        Assert.False(response.IsComplete);
        Assert.Null(response.Trailers);

        // The connection window (65,535 by default) still has room: the stream's window is what held the rest back.
        await client.SendWindowUpdateAsync(1, 4_000);
        await client.ReadResponseAsync(1);

        Assert.Equal(body, response.Body);
        Assert.Equal("done", response.Trailer("x-trailer"));
        Assert.True(response.EndStream);
    }

    [Fact]
    public async Task WriteResponse_BodyOverConnectionWindow_Sends65535BytesUntilConnectionWindowUpdate()
    {
        byte[] body = Pattern(70_000);
        var handler = new TestRequestHandler(_ => Task.FromResult(TestRequestHandler.Ok(body, ("x-trailer", "done"))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        // A stream window far above the body, so that only the connection's default window of 65,535 limits it.
        await client.HandshakeAsync((Http2SettingId.InitialWindowSize, 1_000_000));

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/big"), endStream: true);
        var response = client.Response(1);
        await client.ReadUntilAsync(_ => response.BodyLength >= 65_535);
        await client.PingRoundTripAsync();

        Assert.Equal(65_535, response.BodyLength);
        Assert.False(response.IsComplete);

        await client.SendWindowUpdateAsync(0, 70_000 - 65_535);
        await client.ReadResponseAsync(1);

        Assert.Equal(body, response.Body);
        Assert.Equal("done", response.Trailer("x-trailer"));
        // The client announced no SETTINGS_MAX_FRAME_SIZE, so the default of 16,384 bounds every frame.
        Assert.All(client.Frames, frame => Assert.InRange(frame.Header.Length, 0, 16_384));
    }

    [Fact]
    public async Task WriteResponse_ClientRaisesInitialWindowFromZero_HeldResponseIsSent()
    {
        byte[] body = Pattern(5_000);
        var handler = new TestRequestHandler(_ => Task.FromResult(TestRequestHandler.Ok(body, ("x-trailer", "done"))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync((Http2SettingId.InitialWindowSize, 0));

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/big"), endStream: true);
        await handler.NextCallAsync();
        await client.PingRoundTripAsync();
        bool sentWithoutWindow = client.Frames.Any(frame => frame.Type == Http2FrameType.Data && frame.StreamId == 1);

        // A new initial window applies to streams already open (RFC 9113 §6.9.2), not only to later ones.
        await client.SendAsync(Http2Frames.Settings((Http2SettingId.InitialWindowSize, 5_000u)));
        var response = await client.ReadResponseAsync(1);

        Assert.False(sentWithoutWindow);
        Assert.Equal(body, response.Body);
        Assert.Equal("done", response.Trailer("x-trailer"));
    }

    [Fact]
    public async Task RunAsync_Ping_AnsweredWithAckCarryingSameEightBytes()
    {
        var handler = new TestRequestHandler(_ => throw new InvalidOperationException("no request is sent"));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();
        byte[] opaque = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

        await client.SendPingAsync(opaque);
        var ack = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.Ping);

        Assert.True(ack.Has(Http2FrameFlags.Ack));
        Assert.Equal(0, ack.StreamId);
        Assert.Equal(opaque, ack.Payload);
    }

    [Fact]
    public async Task RunAsync_ClientResetsStream_CancelsAbortedAndSendsNothingMoreOnThatStream()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TestRequestHandler(async request =>
        {
            if (request.Path == "/slow")
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, request.Aborted);
                }
                catch (OperationCanceledException)
                {
                    cancelled.SetResult();
                }
                // Answer anyway, as a handler that ignores its token would: the connection must not send it.
                return TestRequestHandler.Ok("too late"u8.ToArray());
            }
            return TestRequestHandler.Ok("fast"u8.ToArray());
        });
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/slow"), endStream: true);
        await handler.NextCallAsync();
        await client.SendRstStreamAsync(1, Http2ErrorCode.Cancel);
        await cancelled.Task.WaitAsync(RawHttp2Client.Timeout);

        await client.SendHeadersAsync(3, RawHttp2Client.RequestFields("/fast"), endStream: true);
        var fast = await client.ReadResponseAsync(3);
        await client.PingRoundTripAsync();

        Assert.Equal("200", fast.Status);
        Assert.Equal("fast", Encoding.ASCII.GetString(fast.Body));
        Assert.DoesNotContain(client.Frames, frame => frame.StreamId == 1);
    }

    [Fact]
    public async Task RunAsync_HandlerThrowsIOException_ClientGetsResetInternalErrorInsteadOfWaiting()
    {
        var handler = new TestRequestHandler(_ => throw new IOException("disk gone"));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/fails"), endStream: true);
        var reset = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.RstStream && frame.StreamId == 1);

        Assert.Equal(Http2ErrorCode.InternalError, (Http2ErrorCode)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));
    }

    [Fact]
    public async Task RunAsync_BodyOverMaxRequestBodySize_HandlerCalledEarlyThenResponseThenResetNoError()
    {
        var handler = new TestRequestHandler(request => Task.FromResult(request.BodyTooLarge
            ? TestRequestHandler.Ok("too large"u8.ToArray(), ("x-outcome", "rejected"))
            : TestRequestHandler.Ok(request.Body.ToArray(), ("x-outcome", "accepted"))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits { MaxRequestBodySize = 100 });
        await client.HandshakeAsync();

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/upload"), endStream: false);
        await client.SendDataAsync(1, Pattern(150), endStream: false);
        // The stream is still open on the client's side: the handler must not wait for its end.
        var tooLarge = await handler.NextCallAsync();
        var response = await client.ReadResponseAsync(1);
        var reset = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.RstStream && frame.StreamId == 1);

        Assert.True(tooLarge.BodyTooLarge);
        Assert.True(tooLarge.Body.IsEmpty);
        Assert.Equal("200", response.Status);
        Assert.Equal("too large", Encoding.ASCII.GetString(response.Body));
        Assert.Equal("rejected", response.Trailer("x-outcome"));
        Assert.True(response.EndStream);
        Assert.Equal(Http2ErrorCode.NoError, reset.ErrorCode);

        // A client that had not yet seen the reset finishes its body: the connection drops it and goes on serving.
        await client.SendDataAsync(1, Pattern(50), endStream: true);
        await client.SendRequestAsync(3, "/upload", Pattern(50));
        var next = await client.ReadResponseAsync(3);

        Assert.Equal("accepted", next.Trailer("x-outcome"));
        Assert.Equal(Pattern(50), next.Body);
        Assert.Equal(2, handler.CallCount);
    }

    [Fact]
    public async Task RunAsync_MoreStreamsThanMaxConcurrentStreams_RefusesTheExtraStreamAndCompletesTheOthers()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TestRequestHandler(async request =>
        {
            await release.Task;
            return TestRequestHandler.Ok(Encoding.ASCII.GetBytes(request.Path));
        });
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits { MaxConcurrentStreams = 2 });
        await client.HandshakeAsync();

        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/one"), endStream: true);
        await client.SendHeadersAsync(3, RawHttp2Client.RequestFields("/three"), endStream: true);
        await handler.NextCallAsync();
        await handler.NextCallAsync();
        await client.SendHeadersAsync(5, RawHttp2Client.RequestFields("/five"), endStream: true);
        var refused = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.RstStream && frame.StreamId == 5);
        release.SetResult();
        var one = await client.ReadResponseAsync(1);
        var three = await client.ReadResponseAsync(3);

        Assert.Equal(2u, client.ServerSettings[Http2SettingId.MaxConcurrentStreams]);
        Assert.Equal(Http2ErrorCode.RefusedStream, refused.ErrorCode);
        Assert.Equal("/one", Encoding.ASCII.GetString(one.Body));
        Assert.Equal("/three", Encoding.ASCII.GetString(three.Body));
        Assert.True(one.EndStream && three.EndStream);
        Assert.Equal(2, handler.CallCount);
    }

    [Fact]
    public async Task RunAsync_NextStreamOpenedAsSoonAsTheLastOneEnded_IsNeverRefusedAtTheLimit()
    {
        var handler = new TestRequestHandler(request => Task.FromResult(TestRequestHandler.Ok(Encoding.ASCII.GetBytes(request.Path))));
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits { MaxConcurrentStreams = 1 });
        await client.HandshakeAsync();

        // Back to back: the client may open the next stream the moment it reads END_STREAM, before the server's task
        // has finished with the previous one. Refusals came about once in a thousand before the fix.
        for (int streamId = 1; streamId < 16_000; streamId += 2)
        {
            await client.SendHeadersAsync(streamId, RawHttp2Client.RequestFields("/next"), endStream: true);
            var response = await client.ReadResponseAsync(streamId);
            Assert.True(response.EndStream, $"stream {streamId} was refused");
        }
    }

    [Fact]
    public async Task RunAsync_WrongPreface_GoAwayProtocolErrorThenEnd()
    {
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(NoRequestsHandler(), new Http2Limits());

        // An HTTP/1.1 client's idea of the preface: same length, so nothing is left unread when the server closes.
        await client.SendAsync("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"u8.ToArray());

        await AssertGoAwayThenEndAsync(server, client, Http2ErrorCode.ProtocolError, lastStreamId: 0);
    }

    [Fact]
    public async Task RunAsync_FrameOver16384Bytes_GoAwayFrameSizeErrorThenEnd()
    {
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(NoRequestsHandler(), new Http2Limits());
        await client.HandshakeAsync();
        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/open"), endStream: false);

        // Only the header of the oversized frame: the server must refuse it from its length alone.
        byte[] header = new byte[Http2FrameHeader.Size];
        new Http2FrameHeader(16_385, Http2FrameType.Headers, Http2FrameFlags.EndHeaders, 3).Write(header);
        await client.SendAsync(header);

        await AssertGoAwayThenEndAsync(server, client, Http2ErrorCode.FrameSizeError, lastStreamId: 1);
    }

    [Fact]
    public async Task RunAsync_DataOnStreamZero_GoAwayProtocolErrorThenEnd()
    {
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(NoRequestsHandler(), new Http2Limits());
        await client.HandshakeAsync();

        await client.SendDataAsync(0, "data"u8, endStream: false);

        await AssertGoAwayThenEndAsync(server, client, Http2ErrorCode.ProtocolError, lastStreamId: 0);
    }

    [Fact]
    public async Task RunAsync_HeadersOnEvenStream_GoAwayProtocolErrorThenEnd()
    {
        var handler = NoRequestsHandler();
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();

        await client.SendHeadersAsync(2, RawHttp2Client.RequestFields("/even"), endStream: true);

        await AssertGoAwayThenEndAsync(server, client, Http2ErrorCode.ProtocolError, lastStreamId: 0);
        Assert.Equal(0, handler.CallCount);
    }

    [Fact]
    public async Task RunAsync_ClientClosesInsideFrameHeader_EndsWithoutActingOnIt()
    {
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(NoRequestsHandler(), new Http2Limits());
        await client.HandshakeAsync();
        // The last whole frame the server read is an empty SETTINGS, which it acknowledges.
        await client.SendFrameAsync(Http2FrameType.Settings, Http2FrameFlags.None, 0, []);
        await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.Settings && frame.Has(Http2FrameFlags.Ack));

        // Three octets of a frame header, then the end: a frame length of 0 with nothing after it.
        await client.SendAsync(new byte[3]);
        client.ShutdownSend();

        Assert.Empty(await client.ReadToEndAsync());
        await server.WaitForEndAsync();
    }

    [Fact]
    public async Task StopAsync_RequestInFlight_GoAwayNoErrorThenRequestCompletesNewStreamRefusedAndConnectionCloses()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TestRequestHandler(async _ =>
        {
            await release.Task;
            return TestRequestHandler.Ok("finished"u8.ToArray(), ("x-trailer", "done"));
        });
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();
        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/in-flight"), endStream: true);
        await handler.NextCallAsync();

        // No deadline: the stop must end because the stream drained, or the test times out.
        var stopping = server.Connection.StopAsync(CancellationToken.None);
        var goAway = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.GoAway);
        await client.SendHeadersAsync(3, RawHttp2Client.RequestFields("/too-late"), endStream: true);
        var refused = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.RstStream && frame.StreamId == 3);
        release.SetResult();
        var response = await client.ReadResponseAsync(1);
        var afterResponse = await client.ReadToEndAsync();
        await stopping.WaitAsync(RawHttp2Client.Timeout);
        await server.WaitForEndAsync();

        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        Assert.Equal(1, goAway.GoAwayLastStreamId);
        Assert.Equal(Http2ErrorCode.RefusedStream, refused.ErrorCode);
        Assert.Equal("200", response.Status);
        Assert.Equal("finished", Encoding.ASCII.GetString(response.Body));
        Assert.Equal("done", response.Trailer("x-trailer"));
        Assert.True(response.EndStream);
        Assert.Empty(afterResponse);
        Assert.Equal(1, handler.CallCount);
    }

    [Fact]
    public async Task RunAsync_TwoInterleavedRequests_ResponsesLeaveInTheOrderTheirHandlersFinish()
    {
        var releaseSlow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFast = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TestRequestHandler(async request =>
        {
            await (request.Path == "/slow" ? releaseSlow.Task : releaseFast.Task);
            return TestRequestHandler.Ok(request.Body.ToArray(), ("x-path", request.Path));
        });
        await using var server = new Http2TestServer();
        await using var client = await server.ConnectAsync(handler, new Http2Limits());
        await client.HandshakeAsync();

        // Both requests open before either ends, their frames alternating on the connection. The slow one is
        // complete first, so a server answering in arrival order would hold the fast one behind it.
        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields("/slow"), endStream: false);
        await client.SendHeadersAsync(3, RawHttp2Client.RequestFields("/fast"), endStream: false);
        await client.SendDataAsync(3, "fast "u8, endStream: false);
        await client.SendDataAsync(1, "slow body"u8, endStream: true);
        await client.SendDataAsync(3, "body"u8, endStream: true);
        await handler.NextCallAsync();
        await handler.NextCallAsync();

        releaseFast.SetResult();
        var fast = await client.ReadResponseAsync(3);
        bool slowAnsweredEarly = client.Response(1).Headers is not null;
        releaseSlow.SetResult();
        var slow = await client.ReadResponseAsync(1);

        Assert.False(slowAnsweredEarly);
        Assert.Equal(new[] { 3, 1 }, client.CompletedStreams);
        Assert.Equal("fast body", Encoding.ASCII.GetString(fast.Body));
        Assert.Equal("/fast", fast.Trailer("x-path"));
        Assert.Equal("slow body", Encoding.ASCII.GetString(slow.Body));
        Assert.Equal("/slow", slow.Trailer("x-path"));
    }

    private static TestRequestHandler NoRequestsHandler() =>
        new(_ => throw new InvalidOperationException("the test sends no complete request"));

    /// <summary>A connection error as the client sees it: GOAWAY with the code, then the end of the connection.</summary>
    private static async Task AssertGoAwayThenEndAsync(Http2TestServer server, RawHttp2Client client, Http2ErrorCode errorCode, int lastStreamId)
    {
        var goAway = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.GoAway);
        var afterGoAway = await client.ReadToEndAsync();
        await server.WaitForEndAsync();

        Assert.Equal(errorCode, goAway.ErrorCode);
        Assert.Equal(lastStreamId, goAway.GoAwayLastStreamId);
        Assert.Empty(afterGoAway);
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)(i % 251);
        return bytes;
    }
}
