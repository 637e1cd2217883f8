namespace CsiHostPath.Transport.Http2;

internal sealed partial class Http2Connection
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Debug, Message = "HTTP/2 connection error {ErrorCode}: {Reason}")]
    private static partial void LogConnectionError(ILogger logger, Http2ErrorCode errorCode, string reason);

    [LoggerMessage(EventId = 601, Level = LogLevel.Debug, Message = "HTTP/2 stream {StreamId} reset with {ErrorCode}: {Reason}")]
    private static partial void LogStreamError(ILogger logger, int streamId, Http2ErrorCode errorCode, string reason);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Request on stream {StreamId} for {Path} failed outside its handler")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, int streamId, string path);
}
