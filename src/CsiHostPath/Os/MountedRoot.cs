namespace CsiHostPath.Os;

/// <summary>The mount whose root a path is: what it shows, and the kernel's id of that one mount.</summary>
public readonly record struct MountedRoot(MountSource Source, ulong MountId);
