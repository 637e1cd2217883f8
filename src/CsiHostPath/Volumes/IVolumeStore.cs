namespace CsiHostPath.Volumes;

/// <summary>
/// The durable side of volumes. Every method either completes or, after a crash at any instant,
/// leaves the volume as it was before the call.
/// </summary>
public interface IVolumeStore
{
    /// <summary>Prepares the data dir and finishes or discards what a crash interrupted.</summary>
    void Initialize();

    /// <summary>Every volume on disk; a record that cannot be read comes back with <see cref="VolumeRecord.Damage"/> set.</summary>
    IReadOnlyList<VolumeRecord> LoadAll();

    /// <summary>Makes the volume's directory and record appear together.</summary>
    void Create(VolumeRecord record);

    /// <summary>Replaces the volume's record.</summary>
    void Update(VolumeRecord record);

    /// <summary>Removes the volume and all its data; a volume that is already gone is not an error.</summary>
    void Delete(string volumeId);

    /// <summary>The directory pods see.</summary>
    string DataPath(string volumeId);
}
