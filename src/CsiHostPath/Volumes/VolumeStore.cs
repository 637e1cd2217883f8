using System.Text.Json;
using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>One directory per volume under <see cref="DataDirLayout"/>, its record written atomically beside the data.</summary>
public sealed partial class VolumeStore(DataDirLayout layout, ILogger<VolumeStore> logger) : IVolumeStore
{
    // Only root may enter the driver's own directories; pods reach their data through the bind mount alone.
    private const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private long _trashCounter;

    public void Initialize()
    {
        foreach (var dir in new[] { layout.Root, layout.VolumesDir, layout.StagingDir, layout.TrashDir, layout.ArchiveDir })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, PrivateDir);
        }
        foreach (var leftover in Directory.EnumerateFileSystemEntries(layout.StagingDir))
        {
            LogDiscardedStaging(leftover);
            DirectoryTree.Remove(leftover);
        }
        foreach (var leftover in Directory.EnumerateFileSystemEntries(layout.TrashDir))
        {
            LogFinishingDelete(leftover);
            DirectoryTree.Remove(leftover, logger);
        }
    }

    public IReadOnlyList<VolumeRecord> LoadAll()
    {
        var ids = Directory.EnumerateDirectories(layout.VolumesDir).Select(Path.GetFileName).ToArray();
        var records = new VolumeRecord[ids.Length];
        using var volumesDir = SafeDirectory.OpenBeneath(layout.Root, DataDirLayout.VolumesDirName);
        // Every record is its own file, so reading them is a syscall-bound loop that spreads over the cores.
        Parallel.For(0, ids.Length, () => new byte[4096], (i, _, buffer) =>
        {
            SmallFile.DeleteIfPresent(volumesDir, ids[i] + "/" + DataDirLayout.RecordFileName + AtomicFile.TempSuffix);
            records[i] = Load(volumesDir, ids[i]!, ref buffer);
            return buffer;
        }, _ => { });
        return records;
    }

    private VolumeRecord Load(SafeFdHandle volumesDir, string volumeId, ref byte[] buffer)
    {
        string damage;
        try
        {
            int length = SmallFile.ReadAll(volumesDir, volumeId + "/" + DataDirLayout.RecordFileName, ref buffer);
            var record = JsonSerializer.Deserialize(buffer.AsSpan(0, length), VolumeJsonContext.Default.VolumeRecord);
            if (record is not null && record.VolumeId == volumeId)
                return record;
            damage = "its record names another volume or is empty";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            damage = $"its record {layout.RecordPath(volumeId)} cannot be read: {e.Message}";
        }
        LogDamagedRecord(volumeId, damage);
        return new VolumeRecord
        {
            VolumeId = volumeId,
            Name = "",
            CapacityBytes = 0,
            Parameters = new Dictionary<string, string>(),
            CreatedAt = DateTimeOffset.MinValue,
            Damage = damage,
        };
    }

    public void Create(VolumeRecord record, Action<string> provision)
    {
        string staging = Path.Combine(layout.StagingDir, record.VolumeId);
        DirectoryTree.Remove(staging);
        Directory.CreateDirectory(staging, PrivateDir);
        try
        {
            provision(staging);
            AtomicFile.Write(Path.Combine(staging, DataDirLayout.RecordFileName), Serialize(record));
            // The commit point: before this rename the volume does not exist, after it, it is complete.
            Directory.Move(staging, layout.VolumeDir(record.VolumeId));
        }
        catch
        {
            DirectoryTree.Remove(staging);
            throw;
        }
        AtomicFile.SyncDirectory(layout.VolumesDir);
    }

    public void Update(VolumeRecord record, bool durable = true) =>
        AtomicFile.Write(layout.RecordPath(record.VolumeId), Serialize(record), durable);

    public void Delete(string volumeId)
    {
        string dir = layout.VolumeDir(volumeId);
        if (!Directory.Exists(dir))
        {
            // A retried delete continues where a failed one stopped (a mount inside the volume, a writer that would not stop).
            foreach (var leftover in Directory.EnumerateDirectories(layout.TrashDir, volumeId + "-*"))
                DirectoryTree.Remove(leftover, logger);
            return;
        }
        string trash = Path.Combine(layout.TrashDir, $"{volumeId}-{Interlocked.Increment(ref _trashCounter)}-{Environment.TickCount64}");
        // The commit point: once out of volumes/ the volume is gone; a crash mid-removal is finished at start-up.
        Directory.Move(dir, trash);
        AtomicFile.SyncDirectory(layout.VolumesDir);
        DirectoryTree.Remove(trash, logger);
    }

    public string Archive(VolumeRecord record)
    {
        string name = record.Parameters.GetValueOrDefault(VolumeParameters.PvName) is { Length: > 0 } pv ? pv : record.Name;
        string safeName = new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        string archived = Path.Combine(layout.ArchiveDir, $"{safeName}-{DateTimeOffset.UtcNow:yyyyMMddTHHmmssfffZ}");
        Directory.Move(layout.VolumeDir(record.VolumeId), archived);
        AtomicFile.SyncDirectory(layout.VolumesDir);
        AtomicFile.SyncDirectory(layout.ArchiveDir);
        return archived;
    }

    private static byte[] Serialize(VolumeRecord record) =>
        JsonSerializer.SerializeToUtf8Bytes(record, VolumeJsonContext.Default.VolumeRecord);

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Discarding the half-created volume {Path}")]
    private partial void LogDiscardedStaging(string path);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Finishing the removal of {Path}")]
    private partial void LogFinishingDelete(string path);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Volume {VolumeId} is damaged: {Damage}")]
    private partial void LogDamagedRecord(string volumeId, string damage);
}
