using CsiHostPath.Grpc;
using CsiHostPath.Interop;
using CsiHostPath.Volumes;
using Grpc.Core;

namespace CsiHostPath.UnitTests.Volumes;

/// <summary>Issue 20: the errnos a race at a target meets reach the CO as the spec's codes, never INTERNAL.</summary>
public sealed class TargetErrorsTests
{
    public static TheoryData<Exception, StatusCode> Cases => new()
    {
        { new ErrnoException(Errno.ENOENT, "mount", "/proc/self/fd/7"), StatusCode.NotFound },
        { new ErrnoException(Errno.ENOTDIR, "openat", "/t"), StatusCode.NotFound },
        { new DirectoryNotFoundException("gone"), StatusCode.NotFound },
        { new ErrnoException(Errno.EBUSY, "umount2", "/t"), StatusCode.FailedPrecondition },
        { new ErrnoException(Errno.EEXIST, "mkdir", "/t"), StatusCode.FailedPrecondition },
        { new ErrnoException(Errno.EACCES, "openat", "/t"), StatusCode.FailedPrecondition },
        { new UnauthorizedAccessException("denied"), StatusCode.FailedPrecondition },
        { new ErrnoException(Errno.ELOOP, "openat", "/t"), StatusCode.InvalidArgument },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translate_RaceAtATarget_SpecCodeNamingTheTarget(Exception failure, StatusCode expected)
    {
        var translated = TargetErrors.Translate(failure, "target_path", "/pods/p/mount");

        Assert.NotNull(translated);
        var status = ErrorMappingInterceptor.ToStatus(translated);
        Assert.Equal(expected, status.StatusCode);
        Assert.Contains("target_path", status.Detail);
    }

    [Fact]
    public void Translate_UnrelatedErrno_LeftToTheInterceptor()
    {
        Assert.Null(TargetErrors.Translate(new ErrnoException(Errno.EIO, "mount", "/t"), "target_path", "/t"));
    }
}
