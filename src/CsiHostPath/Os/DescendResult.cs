namespace CsiHostPath.Os;

/// <summary>What became of an attempt to step into a directory entry.</summary>
internal enum DescendResult
{
    /// <summary>The cursor is now inside the entry.</summary>
    Entered,

    /// <summary>The entry is gone.</summary>
    Gone,

    /// <summary>The entry is not a directory (any more): a file, a symlink, a device, a FIFO or a socket.</summary>
    NotADirectory,

    /// <summary>The entry is the root of another mount, which a walk must never cross into.</summary>
    OtherMount,
}
