using CsiHostPath.Interop;

namespace CsiHostPath.Volumes;

/// <summary>
/// What a syscall's failure at a target path means to the CO. These come from races with kubelet, the tenant or
/// another call, not from bugs, so they must not surface as INTERNAL: a target that went away is NOT_FOUND, a busy
/// or occupied one FAILED_PRECONDITION.
/// </summary>
public static class TargetErrors
{
    /// <summary>The domain failure for <paramref name="e"/> met at <paramref name="path"/>, or null when it is none of the target's races.</summary>
    public static Exception? Translate(Exception e, string field, string path) => ErrnoOf(e) switch
    {
        Errno.ENOENT or Errno.ENOTDIR => new TargetNotFoundException($"{field} {path} went away: {e.Message}", e),
        Errno.EBUSY => new VolumePreconditionException($"{field} {path} is busy: {e.Message}"),
        Errno.EEXIST => new VolumePreconditionException($"{field} {path} is taken by something else: {e.Message}"),
        Errno.EACCES or Errno.EPERM => new VolumePreconditionException($"{field} {path} cannot be used by the driver: {e.Message}"),
        Errno.ELOOP => new InvalidVolumeArgumentException(field, $"{path} is a symlink"),
        _ => null,
    };

    private static int ErrnoOf(Exception e) => e switch
    {
        ErrnoException errno => errno.Errno,
        UnauthorizedAccessException => Errno.EACCES,
        FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
        IOException => e.HResult,
        _ => 0,
    };
}
