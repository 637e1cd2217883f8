using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>
/// Replaces a file so that a crash of the process or of the machine at any instant leaves either the old or the new
/// content, never a mix and never an empty file.
/// </summary>
public static class AtomicFile
{
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Replaces <paramref name="path"/>: temp file, fsync, rename, fsync of the directory. Without the first fsync a
    /// filesystem may commit the rename before the data (xfs does), and a power loss leaves the file empty.
    /// </summary>
    /// <param name="survivePowerLoss">
    /// False for content that a power loss voids anyway: the directory's fsync is skipped, so after a power loss the
    /// file may hold its old content again (never an empty or partial one); a crash of the process still sees the new.
    /// </param>
    public static void Write(string path, ReadOnlySpan<byte> content, bool survivePowerLoss = true)
    {
        // The temp file sits beside the target: rename(2) is atomic only within one filesystem.
        string temp = path + TempSuffix;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // A full disk leaves a short temp file; it must not take the space a retry needs.
            DeleteLeftover(temp);
            throw;
        }
        if (survivePowerLoss)
            SyncDirectory(Path.GetDirectoryName(path)!);
    }

    private static void DeleteLeftover(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // A read-only filesystem, where no temp file could be made either; start-up removes any other leftover.
        }
    }

    /// <summary>Makes a rename or create inside <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        using var fd = Libc.OpenAt(null, directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Libc.FSync(fd, directory);
    }
}
