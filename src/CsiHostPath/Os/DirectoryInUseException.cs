namespace CsiHostPath.Os;

/// <summary>
/// A tree cannot be removed yet because something keeps writing into it (<see cref="DirectoryTree.Remove(string, ILogger)"/>
/// gave up racing it). What was removed stays removed; a later removal continues from there.
/// </summary>
public sealed class DirectoryInUseException(string message) : IOException(message);
