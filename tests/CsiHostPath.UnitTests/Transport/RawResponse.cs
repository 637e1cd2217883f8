using CsiHostPath.Transport.Http2;

namespace CsiHostPath.UnitTests.Transport;

/// <summary>What the raw client has received on one stream so far.</summary>
internal sealed class RawResponse(int streamId)
{
    private readonly MemoryStream _body = new();

    public int StreamId { get; } = streamId;

    /// <summary>The first header block; null until it has arrived whole.</summary>
    public List<KeyValuePair<string, string>>? Headers { get; set; }

    /// <summary>A second header block, after the body.</summary>
    public List<KeyValuePair<string, string>>? Trailers { get; set; }

    public byte[] Body => _body.ToArray();

    public int BodyLength => (int)_body.Length;

    public bool EndStream { get; set; }

    /// <summary>The code of a RST_STREAM the server sent for this stream, if it did.</summary>
    public Http2ErrorCode? ResetCode { get; set; }

    public bool IsComplete => EndStream || ResetCode is not null;

    public string? Status => Header(":status");

    public void AppendBody(ReadOnlySpan<byte> data) => _body.Write(data);

    public string? Header(string name) => Find(Headers, name);

    public string? Trailer(string name) => Find(Trailers, name);

    private static string? Find(List<KeyValuePair<string, string>>? fields, string name) =>
        fields?.FirstOrDefault(field => field.Key == name).Value;
}
