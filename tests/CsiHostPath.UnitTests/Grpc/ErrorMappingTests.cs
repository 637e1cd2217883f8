using CsiHostPath.Grpc;
using CsiHostPath.Interop;
using CsiHostPath.Volumes;
using Grpc.Core;

namespace CsiHostPath.UnitTests.Grpc;

public sealed class ErrorMappingTests
{
    public static TheoryData<Exception, StatusCode> Cases => new()
    {
        { new InvalidVolumeArgumentException("parameters", "unknown"), StatusCode.InvalidArgument },
        { new VolumeNotFoundException("v"), StatusCode.NotFound },
        { new VolumeConflictException("x"), StatusCode.AlreadyExists },
        { new VolumePreconditionException("x"), StatusCode.FailedPrecondition },
        { new CapacityOutOfRangeException("x"), StatusCode.OutOfRange },
        { new InsufficientCapacityException("x"), StatusCode.ResourceExhausted },
        { new OperationPendingException("v"), StatusCode.Aborted },
        { new InvalidPageTokenException("t"), StatusCode.Aborted },
        { new ErrnoException(Errno.ENOSPC, "mkdir", "/d"), StatusCode.ResourceExhausted },
        { new ErrnoException(Errno.EROFS, "mkdir", "/d"), StatusCode.Unavailable },
        { new ErrnoException(Errno.EIO, "mount", "/t"), StatusCode.Internal },
        { new IOException("No space left on device", Errno.ENOSPC), StatusCode.ResourceExhausted },
        { new IOException("Read-only file system", Errno.EROFS), StatusCode.Unavailable },
        { new InvalidOperationException("bug"), StatusCode.Internal },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ToStatus_DomainAndOsFailures_MapToTheSpecCodes(Exception exception, StatusCode expected)
    {
        var status = ErrorMappingInterceptor.ToStatus(exception);

        Assert.Equal(expected, status.StatusCode);
        Assert.False(string.IsNullOrEmpty(status.Detail));
    }
}
