using CsiHostPath.Interop;

namespace CsiHostPath.Os;

/// <summary>Replaces a file so that a crash at any instant leaves either the old or the new content, never a mix.</summary>
public static class AtomicFile
{
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Replaces <paramref name="path"/>. The rename alone already survives a crash of the process; <paramref name="durable"/>
    /// adds the two fsyncs that make it survive a crash of the machine too.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> content, bool durable = true)
    {
        // The temp file sits beside the target: rename(2) is atomic only within one filesystem.
        string temp = path + TempSuffix;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: durable);
        }
        File.Move(temp, path, overwrite: true);
        if (durable)
            SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Makes a rename or create inside <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        using var fd = Libc.OpenAt(null, directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Libc.FSync(fd, directory);
    }
}
