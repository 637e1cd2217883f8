using System.Diagnostics;
using CsiHostPath.Interop;
using CsiHostPath.Metrics;
using CsiHostPath.Volumes;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CsiHostPath.Grpc;

/// <summary>
/// The one place where domain and OS failures become CSI status codes, and where every call is logged
/// with its method, volume, duration and outcome. Anything unmapped would otherwise reach the CO as UNKNOWN.
/// </summary>
public sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        long start = Stopwatch.GetTimestamp();
        string method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        string volumeId = VolumeIdOf(request);
        var code = StatusCode.OK;
        DriverMeter.RpcStarted(method);
        try
        {
            var response = await continuation(request, context);
            LogCall(LevelFor(method), method, volumeId, StatusCode.OK, Stopwatch.GetElapsedTime(start).TotalMilliseconds, "");
            return response;
        }
        catch (Exception e)
        {
            var status = Bounded(ToStatus(e));
            code = status.StatusCode;
            var level = status.StatusCode is StatusCode.Internal or StatusCode.Unknown ? LogLevel.Error : LogLevel.Warning;
            LogCall(level, method, volumeId, status.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds, status.Detail);
            if (level == LogLevel.Error)
                LogUnexpected(e, method, volumeId);
            throw new RpcException(status);
        }
        finally
        {
            DriverMeter.RpcCompleted(method, code, Stopwatch.GetElapsedTime(start));
        }
    }

    public static Status ToStatus(Exception e) => e switch
    {
        RpcException rpc => rpc.Status,
        InvalidVolumeArgumentException => new Status(StatusCode.InvalidArgument, e.Message),
        VolumeNotFoundException or TargetNotFoundException or Snapshots.SnapshotNotFoundException => new Status(StatusCode.NotFound, e.Message),
        VolumeConflictException => new Status(StatusCode.AlreadyExists, e.Message),
        VolumePreconditionException => new Status(StatusCode.FailedPrecondition, e.Message),
        CapacityOutOfRangeException => new Status(StatusCode.OutOfRange, e.Message),
        InsufficientCapacityException => new Status(StatusCode.ResourceExhausted, e.Message),
        OperationPendingException or InvalidPageTokenException or Os.TreeRearrangedException => new Status(StatusCode.Aborted, e.Message),
        // The call's own token: the client's deadline passed or it went away, and what the call was making was undone.
        OperationCanceledException => new Status(StatusCode.Cancelled, "the call was cancelled before it finished (its deadline passed or the client went away)"),
        DataDirUnavailableException or VolumeElsewhereException => new Status(StatusCode.Unavailable, e.Message),
        IOException when ErrnoOf(e) is Errno.ENOSPC or Errno.EDQUOT => new Status(StatusCode.ResourceExhausted, e.Message),
        IOException when ErrnoOf(e) is Errno.EROFS => new Status(StatusCode.Unavailable, e.Message),
        _ => new Status(StatusCode.Internal, e.Message),
    };

    /// <summary>Ours carry the errno; .NET's own IOExceptions on Unix carry it as their HResult.</summary>
    private static int ErrnoOf(Exception e) => e is ErrnoException errno ? errno.Errno : e.HResult;

    // Messages quote request fields (a page token, a name); the detail travels as an HTTP/2 header, and one over
    // the client's header limit (64 KB in .NET, 8 KB in grpc-go) turns the real status into a transport error.
    private const int MaxDetailLength = 1024;

    private static Status Bounded(Status status) =>
        status.Detail.Length <= MaxDetailLength ? status : new Status(status.StatusCode, status.Detail[..MaxDetailLength] + "…");

    // Identity and capability calls come every few seconds from the sidecars; at Information they would drown the rest.
    private static LogLevel LevelFor(string method) =>
        method is "Probe" or "GetPluginInfo" or "GetPluginCapabilities" or "NodeGetCapabilities" or "ControllerGetCapabilities"
            or "NodeGetInfo" or "GetCapacity" or "NodeGetVolumeStats"
            ? LogLevel.Debug
            : LogLevel.Information;

    private static string VolumeIdOf(object request) => request switch
    {
        Csi.V1.CreateVolumeRequest r => r.Name,
        Csi.V1.DeleteVolumeRequest r => r.VolumeId,
        Csi.V1.ValidateVolumeCapabilitiesRequest r => r.VolumeId,
        Csi.V1.ControllerGetVolumeRequest r => r.VolumeId,
        Csi.V1.NodePublishVolumeRequest r => r.VolumeId,
        Csi.V1.NodeUnpublishVolumeRequest r => r.VolumeId,
        Csi.V1.NodeGetVolumeStatsRequest r => r.VolumeId,
        Csi.V1.CreateSnapshotRequest r => r.SourceVolumeId,
        _ => "",
    };

    [LoggerMessage(EventId = 1, Message = "{Method} volume={VolumeId} status={StatusCode} duration={DurationMs:F1}ms {Detail}")]
    private partial void LogCall(LogLevel level, string method, string volumeId, StatusCode statusCode, double durationMs, string detail);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "{Method} volume={VolumeId} failed unexpectedly")]
    private partial void LogUnexpected(Exception exception, string method, string volumeId);
}
