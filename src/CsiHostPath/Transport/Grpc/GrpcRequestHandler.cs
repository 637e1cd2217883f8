using System.Globalization;
using CsiHostPath.Transport.Http2;
using Google.Protobuf;
using Grpc.Core;

namespace CsiHostPath.Transport.Grpc;

/// <summary>
/// Turns HTTP/2 requests into unary gRPC calls and their outcomes into responses (gRPC over HTTP/2: the message
/// in the body, the status in the trailers).
/// </summary>
internal sealed class GrpcRequestHandler(GrpcMethodTable methods, RequestGate gate) : IHttp2RequestHandler
{
    private static readonly KeyValuePair<string, string>[] ResponseHeaders = [new("content-type", "application/grpc")];

    public async Task<Http2Response> HandleAsync(Http2Request request)
    {
        if (request.Method != "POST")
            return new Http2Response(405, [], default, []);
        if (!IsGrpcContentType(request.Header("content-type")))
            return new Http2Response(415, [], default, []);
        if (!methods.TryFind(request.Path, out var method))
            return Failed(StatusCode.Unimplemented, $"method {request.Path} is not implemented");
        if (request.BodyTooLarge)
            return Failed(StatusCode.ResourceExhausted, $"the request message exceeds the maximum of {GrpcServer.MaxReceiveMessageSize} bytes");

        await gate.Opened;
        try
        {
            var message = GrpcMessage.Unwrap(request.Body);
            var response = await method.InvokeAsync(message, new GrpcCallContext(request.Path, request.Aborted));
            return new Http2Response(200, ResponseHeaders, response, StatusTrailers(StatusCode.OK, ""));
        }
        catch (InvalidProtocolBufferException e)
        {
            return Failed(StatusCode.Internal, "the request message does not parse: " + e.Message);
        }
        catch (RpcException e)
        {
            return Failed(e.StatusCode, e.Status.Detail);
        }
    }

    // "application/grpc" alone, or followed by "+proto" or parameters (gRPC over HTTP/2, Requests).
    private static bool IsGrpcContentType(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == 16 || contentType[16] is '+' or ';');

    private static Http2Response Failed(StatusCode code, string detail) =>
        new(200, ResponseHeaders, default, StatusTrailers(code, detail));

    private static KeyValuePair<string, string>[] StatusTrailers(StatusCode code, string detail)
    {
        var status = new KeyValuePair<string, string>("grpc-status", ((int)code).ToString(CultureInfo.InvariantCulture));
        return detail.Length == 0 ? [status] : [status, new("grpc-message", PercentEncode(detail))];
    }

    /// <summary>grpc-message is percent-encoded UTF-8: printable ASCII other than '%' stays as it is.</summary>
    private static string PercentEncode(string detail)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(detail);
        var encoded = new System.Text.StringBuilder(utf8.Length);
        foreach (byte b in utf8)
        {
            if (b is >= 0x20 and <= 0x7e and not (byte)'%')
                encoded.Append((char)b);
            else
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }
}
