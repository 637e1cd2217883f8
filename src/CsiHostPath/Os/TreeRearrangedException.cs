namespace CsiHostPath.Os;

/// <summary>
/// A tree was rearranged under a walk that must see all of it (a directory moved while <see cref="DirectoryTree.Copy"/>
/// was inside it): the walk stops rather than follow the directory elsewhere. Nothing is wrong with the tree; a retry
/// copies it as it is then.
/// </summary>
public sealed class TreeRearrangedException(string message) : IOException(message);
