using CsiHostPath.Options;

namespace CsiHostPath.Volumes;

/// <summary>Runs <see cref="EphemeralVolumes.Sweep"/> at start-up and then every --ephemeral-sweep-interval until shutdown.</summary>
public sealed partial class EphemeralVolumeSweeper(EphemeralVolumes volumes, DriverOptions options, ILogger<EphemeralVolumeSweeper> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Off the start-up path: removing a large volume must not delay the first answer to kubelet.
        await Task.Yield();
        using var timer = new PeriodicTimer(options.EphemeralSweepInterval);
        do
        {
            try
            {
                volumes.Sweep();
            }
            catch (Exception e)
            {
                // The driver keeps serving; the next round tries again.
                LogSweepFailed(e);
            }
        }
        while (await WaitAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1404, Level = LogLevel.Error, Message = "Sweeping inline ephemeral volumes failed")]
    private partial void LogSweepFailed(Exception exception);
}
