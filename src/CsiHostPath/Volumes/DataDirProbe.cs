using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>Whether the data dir can take new volumes and writes right now.</summary>
public sealed class DataDirProbe(DataDirLayout layout)
{
    /// <summary>Null when ready, else what is wrong.</summary>
    public string? Problem()
    {
        try
        {
            if (!Directory.Exists(layout.VolumesDir))
                return $"the data dir {layout.Root} is missing";
            return FileSystemStats.Of(layout.VolumesDir).IsReadOnly ? $"the data dir {layout.Root} is on a read-only filesystem" : null;
        }
        catch (IOException e)
        {
            return $"the data dir {layout.Root} cannot be used: {e.Message}";
        }
    }
}
