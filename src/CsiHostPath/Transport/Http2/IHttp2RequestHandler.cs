namespace CsiHostPath.Transport.Http2;

/// <summary>What a connection hands each complete request to; called concurrently for concurrent streams.</summary>
internal interface IHttp2RequestHandler
{
    Task<Http2Response> HandleAsync(Http2Request request);
}
