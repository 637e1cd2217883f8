using System.Diagnostics;
using System.Globalization;

namespace CsiHostPath.ReliabilityTests.Infrastructure;

/// <summary>
/// Stops the running driver at a chosen system call: strace, attached to every thread of it, delivers a signal on
/// entry to the <c>when</c>-th call (counted per thread) of one of <c>syscalls</c> that names one of <c>paths</c>
/// (strace -P), before the call runs. SIGKILL is a crash at exactly that step; SIGSTOP holds the driver there until
/// the test sends SIGCONT.
/// </summary>
public sealed class SyscallFault : IDisposable
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(20);
    private readonly Process _strace;
    private readonly string _log;

    private SyscallFault(Process strace, string log)
    {
        _strace = strace;
        _log = log;
    }

    public static SyscallFault KillAt(int pid, string syscalls, int when, params string[] paths) => Arm(pid, syscalls, "KILL", when, paths);

    public static SyscallFault StopAt(int pid, string syscalls, int when, params string[] paths) => Arm(pid, syscalls, "STOP", when, paths);

    private static SyscallFault Arm(int pid, string syscalls, string signal, int when, string[] paths)
    {
        string log = Path.GetTempFileName();
        var start = new ProcessStartInfo("strace") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["-f", "-qq", "-o", log, "-p", pid.ToString(CultureInfo.InvariantCulture),
                     "-e", $"trace={syscalls}", "-e", $"inject={syscalls}:signal={signal}:when={when}"])
            start.ArgumentList.Add(arg);
        foreach (var path in paths)
        {
            start.ArgumentList.Add("-P");
            start.ArgumentList.Add(path);
        }
        var fault = new SyscallFault(Process.Start(start)!, log);
        fault.WaitUntilAttached(pid);
        return fault;
    }

    /// <summary>Every thread of the driver reports strace as its tracer: from now on the fault is armed.</summary>
    private void WaitUntilAttached(int pid)
    {
        string tracer = _strace.Id.ToString(CultureInfo.InvariantCulture);
        var deadline = Stopwatch.StartNew();
        while (!Directory.EnumerateDirectories($"/proc/{pid}/task").All(task => TracerOf(task) is not { } t || t == tracer))
        {
            if (_strace.HasExited || deadline.Elapsed > AttachTimeout)
                throw new InvalidOperationException($"strace did not attach to {pid}: {_strace.StandardError.ReadToEnd()}");
            Thread.Sleep(5);
        }
    }

    /// <summary>The thread's tracer pid, or null when the thread is gone.</summary>
    private static string? TracerOf(string task)
    {
        try
        {
            return File.ReadLines(Path.Combine(task, "status")).First(l => l.StartsWith("TracerPid:", StringComparison.Ordinal))[10..].Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Waits until a <see cref="StopAt"/> fault has stopped the driver, as strace reports it.</summary>
    public void WaitUntilStopped()
    {
        var deadline = Stopwatch.StartNew();
        while (!File.ReadAllText(_log).Contains("--- stopped by SIGSTOP ---", StringComparison.Ordinal))
        {
            if (_strace.HasExited || deadline.Elapsed > AttachTimeout)
                throw new TimeoutException($"the driver never stopped at its fault: {File.ReadAllText(_log)}");
            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        if (!_strace.HasExited)
            _strace.Kill();
        _strace.WaitForExit();
        _strace.Dispose();
        File.Delete(_log);
    }
}
