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

    /// <summary>Makes the volume's directory, what <paramref name="provision"/> puts in it, and its record appear together.</summary>
    void Create(VolumeRecord record, Action<string> provision);

    /// <summary>
    /// Replaces the volume's record durably: after a power loss at any instant it is the old record or the new one,
    /// never an empty or partial file. Throws (ENOSPC, EROFS) with the old record still in place.
    /// </summary>
    void Update(VolumeRecord record);

    /// <summary>
    /// Replaces the volume's record where only its publications changed. A power loss takes every mount with it and
    /// start-up drops publications whose mount is gone, so the old record is as right as the new one after it: this
    /// skips the fsync that makes the new one survive a power loss (a quarter of a lifecycle's fsyncs). A crash of the
    /// driver alone still finds the new record, and never an empty or partial one.
    /// </summary>
    void UpdatePublications(VolumeRecord record);

    /// <summary>Removes the volume and all its data; a volume that is already gone is not an error.</summary>
    void Delete(string volumeId);

    /// <summary>Moves the volume, record and all, to the archive; returns where it went.</summary>
    string Archive(VolumeRecord record);
}
