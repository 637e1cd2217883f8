using System.Text;
using CsiHostPath.Transport;
using CsiHostPath.Transport.Grpc;
using CsiHostPath.Transport.Http2;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// The gRPC layer as a client sees it: <see cref="GrpcServer"/> on a real unix socket with
/// <see cref="GrpcRequestHandler"/>, called by the raw HTTP/2 client so that requests no gRPC library would
/// send can be sent too.
/// </summary>
public sealed class GrpcServerTests
{
    [Fact]
    public async Task Call_EchoMethod_ReturnsTheMessageWithGrpcStatusOk()
    {
        byte[] message = Message(0, "hello"u8);

        var response = await CallAsync(TestGrpcService.EchoPath, "application/grpc", message);

        Assert.Equal("200", response.Status);
        Assert.Equal("application/grpc", response.Header("content-type"));
        Assert.Equal(message, response.Body);
        Assert.Equal(StatusString(StatusCode.OK), response.Trailer("grpc-status"));
        Assert.Null(response.Trailer("grpc-message"));
    }

    [Fact]
    public async Task Call_BeforeTheGateOpens_WaitsAndIsAnsweredOnceItOpens()
    {
        var gate = new RequestGate();
        byte[] message = Message(0, "early"u8);
        await using var call = await GrpcTestServer.StartAsync(gate);

        await call.Client.SendRequestAsync(1, TestGrpcService.EchoPath, message, ("content-type", "application/grpc"), ("te", "trailers"));
        await call.Client.PingRoundTripAsync();
        Assert.DoesNotContain(call.Client.Frames, frame => frame.StreamId == 1);

        gate.Open();
        var response = await call.Client.ReadResponseAsync(1);

        Assert.Equal(message, response.Body);
        Assert.Equal(StatusString(StatusCode.OK), response.Trailer("grpc-status"));
    }

    [Fact]
    public async Task Call_UnknownMethod_EndsWithGrpcStatusUnimplemented()
    {
        var response = await CallAsync("/test.Echo/Missing", "application/grpc", Message(0, "hello"u8));

        Assert.Equal("200", response.Status);
        Assert.Empty(response.Body);
        Assert.Equal(StatusString(StatusCode.Unimplemented), response.Trailer("grpc-status"));
        Assert.Contains("/test.Echo/Missing", response.Trailer("grpc-message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_TextPlainContentType_Answers415WithoutGrpcStatus()
    {
        var response = await CallAsync(TestGrpcService.EchoPath, "text/plain", Message(0, "hello"u8));

        Assert.Equal("415", response.Status);
        Assert.True(response.EndStream);
        Assert.Empty(response.Body);
        Assert.Null(response.Trailers);
    }

    [Fact]
    public async Task Call_CompressedFlagSet_EndsWithGrpcStatusUnimplemented()
    {
        var response = await CallAsync(TestGrpcService.EchoPath, "application/grpc", Message(1, "hello"u8));

        Assert.Equal(StatusString(StatusCode.Unimplemented), response.Trailer("grpc-status"));
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task Call_BodyWithTwoMessages_EndsWithGrpcStatusInternal()
    {
        byte[] body = [.. Message(0, "one"u8), .. Message(0, "two"u8)];

        var response = await CallAsync(TestGrpcService.EchoPath, "application/grpc", body);

        Assert.Equal(StatusString(StatusCode.Internal), response.Trailer("grpc-status"));
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task Call_FailureDetailWithNonAsciiPercentAndNewline_ArrivesPercentEncoded()
    {
        var response = await CallAsync(TestGrpcService.FailPath, "application/grpc", Message(0, "x"u8));

        Assert.Equal(StatusString(StatusCode.FailedPrecondition), response.Trailer("grpc-status"));
        // UTF-8 of 'ï' is C3 AF; '%' is 25; '\n' is 0A.
        Assert.Equal("na%C3%AFve: 100%25 sure%0A", response.Trailer("grpc-message"));
    }

    [Fact]
    public async Task Call_MessageOverMaxReceiveMessageSize_EndsWithResourceExhaustedThenResetNoError()
    {
        await using var call = await GrpcTestServer.StartAsync();
        var client = call.Client;
        await client.SendHeadersAsync(1, RawHttp2Client.RequestFields(TestGrpcService.EchoPath, ("content-type", "application/grpc")), endStream: false);

        // In frames of the largest size the server accepts, until the body is past the limit; the stream stays open.
        byte[] chunk = new byte[16_384];
        GrpcMessage.WritePrefix(chunk, GrpcServer.MaxReceiveMessageSize + 1);
        for (int sent = 0; sent <= GrpcServer.MaxReceiveMessageSize + GrpcMessage.PrefixSize; sent += chunk.Length)
            await client.SendDataAsync(1, chunk, endStream: false);
        var response = await client.ReadResponseAsync(1);
        var reset = await client.ReadUntilAsync(frame => frame.Type == Http2FrameType.RstStream && frame.StreamId == 1);

        Assert.Equal(StatusString(StatusCode.ResourceExhausted), response.Trailer("grpc-status"));
        Assert.Equal(Http2ErrorCode.NoError, reset.ErrorCode);
    }

    private static async Task<RawResponse> CallAsync(string path, string contentType, byte[] body)
    {
        await using var call = await GrpcTestServer.StartAsync();
        await call.Client.SendRequestAsync(1, path, body, ("content-type", contentType), ("te", "trailers"));
        return await call.Client.ReadResponseAsync(1);
    }

    /// <summary>A length-prefixed gRPC message with the given compressed flag.</summary>
    private static byte[] Message(byte compressedFlag, ReadOnlySpan<byte> payload)
    {
        var message = new byte[GrpcMessage.PrefixSize + payload.Length];
        GrpcMessage.WritePrefix(message, payload.Length);
        message[0] = compressedFlag;
        payload.CopyTo(message.AsSpan(GrpcMessage.PrefixSize));
        return message;
    }

    private static string StatusString(StatusCode code) => ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
