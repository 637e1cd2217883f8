using System.Collections.Concurrent;
using System.Diagnostics;

namespace CsiHostPath.Testing;

/// <summary>
/// The real csi-hostpath executable started with exactly the given arguments, for tests of what happens before it
/// serves anything: refused flags, a start-up that fails, a driver waiting for another. Optionally through a wrapper
/// such as setpriv, as a container runtime would start it with fewer privileges.
/// </summary>
public sealed class DriverRun : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private DriverRun(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Everything written so far to stdout and stderr.</summary>
    public string Output => string.Join('\n', _lines);

    public static DriverRun Start(IEnumerable<string> arguments, params string[] wrapper)
    {
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : DriverProcess.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in wrapper.Skip(1))
            start.ArgumentList.Add(arg);
        if (wrapper.Length > 0)
            start.ArgumentList.Add(DriverProcess.ExecutablePath);
        foreach (var arg in arguments)
            start.ArgumentList.Add(arg);
        var run = new DriverRun(Process.Start(start)!);
        run._process.OutputDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue(e.Data); };
        run._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) run._lines.Enqueue(e.Data); };
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Runs the driver to its exit and returns its exit code; fails the test if it is still running after a minute.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> arguments, params string[] wrapper)
    {
        await using var run = Start(arguments, wrapper);
        int exitCode = await run.WaitForExitAsync();
        return (exitCode, run.Output);
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"csi-hostpath still running after {Limit}:\n{Output}");
        }
        // WaitForExit without a timeout also waits for the redirected streams to reach their end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits for a line of output containing <paramref name="text"/>: the driver's own word that it reached a point.</summary>
    public async Task WaitForOutputAsync(string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!_lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"csi-hostpath exited with {_process.ExitCode} before writing '{text}':\n{Output}");
            if (deadline.Elapsed > Limit)
                throw new TimeoutException($"csi-hostpath did not write '{text}' within {Limit}:\n{Output}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
