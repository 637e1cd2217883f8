using System.Threading.Channels;
using CsiHostPath.Transport.Http2;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>
/// Answers requests with a delegate each test writes, and reports every call as it starts, so a test can wait for
/// the connection to have handed a request over before it goes on.
/// </summary>
internal sealed class TestRequestHandler(Func<Http2Request, Task<Http2Response>> respond) : IHttp2RequestHandler
{
    private readonly Channel<Http2Request> _calls = Channel.CreateUnbounded<Http2Request>();
    private int _callCount;

    public int CallCount => Volatile.Read(ref _callCount);

    public static Http2Response Ok(ReadOnlyMemory<byte> body, params (string Name, string Value)[] trailers) =>
        new(200, [new("content-type", "application/octet-stream")], body,
            [.. trailers.Select(trailer => new KeyValuePair<string, string>(trailer.Name, trailer.Value))]);

    public Task<Http2Response> HandleAsync(Http2Request request)
    {
        Interlocked.Increment(ref _callCount);
        _calls.Writer.TryWrite(request);
        return respond(request);
    }

    /// <summary>The next request the connection handed over, in the order of the calls.</summary>
    public async Task<Http2Request> NextCallAsync() =>
        await _calls.Reader.ReadAsync().AsTask().WaitAsync(RawHttp2Client.Timeout);
}
