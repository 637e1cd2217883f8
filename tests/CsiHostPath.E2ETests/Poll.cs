using System.Diagnostics;

namespace CsiHostPath.E2ETests;

/// <summary>Waits for a cluster condition by polling with a deadline; the last observed state goes into the timeout message.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static async Task<T> UntilAsync<T>(string what, TimeSpan timeout, Func<Task<T>> observe, Func<T, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            T observed = await observe();
            if (done(observed))
                return observed;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{what}: not within {timeout}; last seen: {observed}");
            await Task.Delay(Interval);
        }
    }
}
