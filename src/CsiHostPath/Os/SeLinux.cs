namespace CsiHostPath.Os;

/// <summary>Whether the kernel runs SELinux: only then does a filesystem take a <c>context=</c> mount option.</summary>
public static class SeLinux
{
    /// <summary>The kernel registers selinuxfs only when SELinux is enabled; /proc/filesystems shows it in any container.</summary>
    public static bool IsEnabled => File.ReadLines("/proc/filesystems").Any(line => line.EndsWith("\tselinuxfs", StringComparison.Ordinal));
}
