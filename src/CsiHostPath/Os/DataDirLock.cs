using System.Globalization;
using System.Text;
using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// One driver per data dir: an exclusive flock on &lt;data-dir&gt;/.lock, held for the process's whole life. Two drivers on
/// one data dir (a DaemonSet rolling update with maxSurge, a second driver started by hand) would each clear the other's
/// .staging and finish its .trash. The kernel drops the lock with the process, kill -9 included, so it never goes stale;
/// the holder's PID is written into the file only to tell a waiting driver whom it waits for.
/// </summary>
public sealed partial class DataDirLock : IDisposable
{
    public const string FileName = ".lock";

    // Polling a lock with a deadline: flock(2) has no timed wait, and a blocked flock cannot be cancelled by SIGTERM.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileStream? file;

    private DataDirLock(FileStream? file) => this.file = file;

    /// <summary>Waits up to <paramref name="timeout"/> for the lock; null if another process still holds it then.</summary>
    public static async Task<DataDirLock?> AcquireAsync(string dataDir, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        string path = Path.Combine(dataDir, FileName);
        var file = Open(path, logger);
        if (file is null)
            return new DataDirLock(null);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            bool logged = false;
            while (!Libc.TryLockExclusive(file.SafeFileHandle, path))
            {
                if (!logged)
                {
                    LogWaiting(logger, dataDir, Holder(file), timeout.TotalSeconds);
                    logged = true;
                }
                if (DateTime.UtcNow >= deadline)
                {
                    LogGaveUp(logger, dataDir, Holder(file), timeout.TotalSeconds);
                    file.Dispose();
                    return null;
                }
                await Task.Delay(PollInterval, cancellationToken);
            }
            WritePid(path);
            return new DataDirLock(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    // A data dir that is read-only at start must not stop the driver (it reports itself not ready until the disk
    // recovers): flock needs only a read-only descriptor, and with no lock file at all there is nothing to lock. The lock
    // is held through a read-only descriptor even when the disk is writable: a file open for writing for the driver's
    // whole life would make `mount -o remount,ro` of the data dir fail with EBUSY.
    private static FileStream? Open(string path, ILogger logger)
    {
        try
        {
            new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Read-only: lock the file that is there, if any.
        }
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogUnlocked(logger, path, e.Message);
            return null;
        }
    }

    /// <summary>Tells a driver that waits whom it waits for; through a descriptor closed at once, and not at all on a read-only disk.</summary>
    private static void WritePid(string path)
    {
        try
        {
            using var pid = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            pid.SetLength(0);
            pid.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only data dir: the waiting driver reads "unknown".
        }
    }

    private static string Holder(FileStream file)
    {
        file.Position = 0;
        var buffer = new byte[32];
        int length = file.Read(buffer);
        string pid = Encoding.ASCII.GetString(buffer, 0, length).Trim();
        return pid.Length > 0 ? pid : "unknown";
    }

    public void Dispose() => file?.Dispose();

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "Data dir {DataDir} is locked by another driver, PID {HolderPid}; waiting up to {TimeoutSeconds} s for it to exit")]
    private static partial void LogWaiting(ILogger logger, string dataDir, string holderPid, double timeoutSeconds);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning,
        Message = "Cannot open the lock file {LockPath} ({Reason}); starting without the one-driver-per-data-dir lock")]
    private static partial void LogUnlocked(ILogger logger, string lockPath, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Critical,
        Message = "Cannot start: data dir {DataDir} is still locked by PID {HolderPid} after {TimeoutSeconds} s (--lock-timeout); one driver per data dir")]
    private static partial void LogGaveUp(ILogger logger, string dataDir, string holderPid, double timeoutSeconds);
}
