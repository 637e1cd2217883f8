using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>One directory per volume under <see cref="DataDirLayout.VolumesDir"/>, its record written atomically beside the data.</summary>
public sealed class VolumeStore(DataDirLayout layout, ILogger<VolumeStore> logger)
    : RecordStore<VolumeRecord>(layout, DataDirLayout.VolumesDirName, DataDirLayout.RecordFileName, VolumeJsonContext.Default.VolumeRecord, logger),
      IVolumeStore
{
    protected override string IdOf(VolumeRecord record) => record.VolumeId;

    protected override VolumeRecord Damaged(string id, string damage) => new()
    {
        VolumeId = id,
        Name = "",
        CapacityBytes = 0,
        Parameters = new Dictionary<string, string>(),
        CreatedAt = DateTimeOffset.MinValue,
        Damage = damage,
    };

    public void UpdatePublications(VolumeRecord record) => Replace(record, survivePowerLoss: false);

    public override void Initialize()
    {
        base.Initialize();
        MakePrivateDir(Layout.ArchiveDir);
    }

    public string Archive(VolumeRecord record)
    {
        // A damaged record has lost its names; the volume id still says which volume this was.
        string name = record.Parameters.GetValueOrDefault(VolumeParameters.PvName) is { Length: > 0 } pv ? pv
            : record.Name.Length > 0 ? record.Name : record.VolumeId;
        string safeName = new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        string archived = Path.Combine(Layout.ArchiveDir, $"{safeName}-{DateTimeOffset.UtcNow:yyyyMMddTHHmmssfffZ}");
        Directory.Move(Layout.VolumeDir(record.VolumeId), archived);
        AtomicFile.SyncDirectory(Layout.VolumesDir);
        AtomicFile.SyncDirectory(Layout.ArchiveDir);
        return archived;
    }
}
