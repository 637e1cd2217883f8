using System.Diagnostics;

namespace CsiHostPath.Testing;

/// <summary>
/// strace attached to a running driver, injecting a fault into one system call (strace's -e inject): a delay on entry,
/// so that a race the driver would win by being fast is lost every time; or a delay after the call has done its work,
/// which holds the driver between two steps so that a test can see the first step's effect and kill it right there.
/// </summary>
public sealed class SyscallFault : IDisposable
{
    private readonly Process _strace;

    private SyscallFault(Process strace) => _strace = strace;

    /// <summary>Every call of <paramref name="syscall"/> by any thread of <paramref name="pid"/> waits <paramref name="delay"/> first.</summary>
    public static SyscallFault Delay(int pid, string syscall, TimeSpan delay) =>
        Attach(pid, syscall, $"delay_enter={(long)delay.TotalMicroseconds}");

    /// <summary>Every call of <paramref name="syscall"/> completes, then waits <paramref name="delay"/> before it returns.</summary>
    public static SyscallFault DelayReturn(int pid, string syscall, TimeSpan delay) =>
        Attach(pid, syscall, $"delay_exit={(long)delay.TotalMicroseconds}");

    /// <summary>
    /// Every call of <paramref name="syscall"/> fails with <paramref name="errno"/> (e.g. ENOSYS: a kernel without it);
    /// strace writes each call it faked to <paramref name="log"/>, marked "(INJECTED)".
    /// </summary>
    public static SyscallFault Fail(int pid, string syscall, string errno, string log) =>
        Attach(pid, syscall, "error=" + errno, log);

    /// <summary>No fault: every call of <paramref name="syscall"/> by <paramref name="pid"/> and its children is written to <paramref name="log"/>.</summary>
    public static SyscallFault Watch(int pid, string syscall, string log) => Attach(pid, syscall, fault: null, log);

    /// <summary>Attaches to every thread of <paramref name="pid"/>; returns once all of them are traced.</summary>
    private static SyscallFault Attach(int pid, string syscall, string? fault, string log = "/dev/null")
    {
        var start = new ProcessStartInfo("strace") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["-f", "-qq", "-o", log, "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-e", "trace=" + syscall])
            start.ArgumentList.Add(arg);
        if (fault is not null)
        {
            start.ArgumentList.Add("-e");
            start.ArgumentList.Add($"inject={syscall}:{fault}");
        }
        var strace = Process.Start(start)!;
        var deadline = Stopwatch.StartNew();
        while (!Directory.GetDirectories($"/proc/{pid}/task").All(IsTraced))
        {
            if (strace.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new InvalidOperationException($"strace did not attach to {pid}: {strace.StandardError.ReadToEnd()}");
            Thread.Sleep(10);
        }
        return new SyscallFault(strace);
    }

    /// <summary>Detaches (strace lets its tracees go on SIGTERM), or reaps strace once its tracee is dead.</summary>
    public void Dispose()
    {
        if (!_strace.HasExited)
        {
            _ = Interop.Kill(_strace.Id, 15);
            _strace.WaitForExit();
        }
        _strace.Dispose();
    }

    private static bool IsTraced(string task)
    {
        try
        {
            return File.ReadLines(Path.Combine(task, "status")).First(l => l.StartsWith("TracerPid:", StringComparison.Ordinal)).Split('\t')[1] != "0";
        }
        catch (IOException)
        {
            return true;
        }
    }
}
