namespace CsiHostPath.Os;

/// <summary>What a tree copy made: entries, bytes the copies' files occupy on disk, and how many files share their blocks with the source (reflink).</summary>
public readonly record struct TreeCopyResult(long Entries, long AllocatedBytes, long ReflinkedFiles);
