namespace CsiHostPath.Os;

/// <summary>The per-mount flags a publish may ask for (mount(8) names, as kubelet passes them).</summary>
[Flags]
public enum MountFlags
{
    None = 0,
    ReadOnly = 1,
    NoSuid = 2,
    NoDev = 4,
    NoExec = 8,
    NoAtime = 16,
    NoDirAtime = 32,
    RelAtime = 64,
}
