namespace CsiHostPath.Bench.Runs;

/// <summary>The bench's stand-in for kubelet's pods directory: target and staging paths live beneath it.</summary>
public static class WorkDirectory
{
    public static string Create(string parent, string runId) =>
        Directory.CreateDirectory(Path.Combine(parent, "csi-bench-" + runId)).FullName;

    /// <summary>Never recursive: a mount the driver failed to remove must not have its volume's data deleted through it.</summary>
    public static void RemoveIfEmpty(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: false);
        }
        catch (IOException)
        {
            // Left behind on purpose; the report's error counts say which unpublish or unstage failed.
        }
    }
}
