using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Bench.Output;
using CsiHostPath.Client;

namespace CsiHostPath.Bench.Startup;

/// <summary>
/// Spawns a driver and times how long its socket takes to accept a connection (what kubelet's plugin watcher and
/// the sidecars wait for after a node boots or the DaemonSet rolls) and then to answer a first GetPluginInfo (a
/// driver may accept connections before it can answer).
/// </summary>
public static class StartupProbe
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static async Task<StartupReport> RunAsync(string driver, IReadOnlyList<string> driverArgs, string socketPath, int runs)
    {
        var connectable = new List<double>();
        var answered = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            var (socket, answer) = await TimeOneStartAsync(driver, driverArgs, socketPath);
            connectable.Add(socket.TotalMilliseconds);
            answered.Add(answer.TotalMilliseconds);
        }
        return new StartupReport(driver, runs, Median(connectable), connectable.Min(), connectable.Max(), connectable,
            Median(answered), answered);
    }

    private static double Median(List<double> values) => values.Order().ElementAt((values.Count - 1) / 2);

    private static async Task<(TimeSpan Connectable, TimeSpan Answered)> TimeOneStartAsync(string driver, IReadOnlyList<string> driverArgs, string socketPath)
    {
        var start = new ProcessStartInfo(driver) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in driverArgs)
            start.ArgumentList.Add(arg);
        var elapsed = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {driver}");
        // Drained so that a chatty driver never blocks on a full pipe; what it says is not part of the measurement.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (!CsiClient.CanConnect(socketPath))
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"{driver} exited with {process.ExitCode} before listening on {socketPath}");
                if (elapsed.Elapsed > Deadline)
                    throw new TimeoutException($"{driver} did not listen on {socketPath} within {Deadline}");
                Thread.Sleep(1);
            }
            var connectable = elapsed.Elapsed;
            using (var client = new CsiClient(socketPath))
                await client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest(), deadline: DateTime.UtcNow + Deadline);
            return (connectable, elapsed.Elapsed);
        }
        finally
        {
            // SIGKILL, not a graceful stop: the next start must then also clear the stale socket, as after a node crash.
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
