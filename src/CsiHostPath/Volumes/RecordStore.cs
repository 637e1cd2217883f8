using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CsiHostPath.Interop;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>
/// One directory per item (a volume, a snapshot) under its kind's folder of the data dir, its record written
/// atomically beside the data. An item is built in .staging/ and renamed into place in one step, and renamed into
/// .trash/ before it is removed, so a crash leaves it wholly present or wholly absent. Volumes and snapshots share
/// .staging/ and .trash/: their ids never collide (<see cref="VolumeId"/>, <see cref="Snapshots.SnapshotId"/>).
/// </summary>
public abstract class RecordStore<TRecord>(DataDirLayout layout, string kindDirName, string recordFileName, JsonTypeInfo<TRecord> typeInfo, ILogger logger)
    where TRecord : class
{
    // Only root may enter the driver's own directories; pods reach their data through the bind mount alone.
    private const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private long _trashCounter;

    protected DataDirLayout Layout => layout;

    /// <summary>The folder holding one directory per item.</summary>
    protected string KindDir => Path.Combine(layout.Root, kindDirName);

    public string ItemDir(string id) => Path.Combine(KindDir, id);

    protected abstract string IdOf(TRecord record);

    /// <summary>What stands for an item whose record cannot be read: it is reported and can be deleted, nothing more.</summary>
    protected abstract TRecord Damaged(string id, string damage);

    /// <summary>Prepares the data dir and finishes or discards what a crash interrupted.</summary>
    public virtual void Initialize()
    {
        foreach (var dir in new[] { layout.Root, KindDir, layout.StagingDir, layout.TrashDir })
            MakePrivateDir(dir);
        foreach (var leftover in Directory.EnumerateFileSystemEntries(layout.StagingDir))
        {
            RecordStoreLog.DiscardedStaging(logger, leftover);
            RemoveLeftover(leftover);
        }
        foreach (var leftover in Directory.EnumerateFileSystemEntries(layout.TrashDir))
        {
            RecordStoreLog.FinishingDelete(logger, leftover);
            RemoveLeftover(leftover);
        }
    }

    protected static void MakePrivateDir(string dir)
    {
        Directory.CreateDirectory(dir);
        // chmod fails on a read-only data dir even when it would change nothing, and a driver that cannot start
        // cannot say what is wrong.
        if (File.GetUnixFileMode(dir) != PrivateDir)
            File.SetUnixFileMode(dir, PrivateDir);
    }

    /// <summary>
    /// A leftover that cannot go now (a read-only data dir) waits: a staged item is removed again before its id is
    /// staged anew, a trashed one by the next start-up or a retried delete.
    /// </summary>
    private void RemoveLeftover(string path)
    {
        try
        {
            DirectoryTree.Remove(path, logger);
        }
        catch (IOException e)
        {
            RecordStoreLog.LeftoverKept(logger, path, e.Message);
        }
    }

    /// <summary>Every item on disk; a record that cannot be read comes back as <see cref="Damaged"/>.</summary>
    public IReadOnlyList<TRecord> LoadAll()
    {
        var ids = Directory.EnumerateDirectories(KindDir).Select(Path.GetFileName).ToArray();
        var records = new TRecord[ids.Length];
        using var kindDir = SafeDirectory.OpenBeneath(layout.Root, kindDirName);
        // Every record is its own file, so reading them is a syscall-bound loop that spreads over the cores.
        Parallel.For(0, ids.Length, () => new byte[4096], (i, _, buffer) =>
        {
            DeleteTempRecord(kindDir, ids[i]!);
            records[i] = Load(kindDir, ids[i]!, ref buffer);
            return buffer;
        }, _ => { });
        return records;
    }

    private void DeleteTempRecord(SafeFdHandle kindDir, string id)
    {
        try
        {
            SmallFile.DeleteIfPresent(kindDir, id + "/" + recordFileName + AtomicFile.TempSuffix);
        }
        catch (IOException e)
        {
            // Read-only: the stale temp file stays until the next write of this record replaces it.
            RecordStoreLog.LeftoverKept(logger, Path.Combine(ItemDir(id), recordFileName + AtomicFile.TempSuffix), e.Message);
        }
    }

    private TRecord Load(SafeFdHandle kindDir, string id, ref byte[] buffer)
    {
        string damage;
        try
        {
            int length = SmallFile.ReadAll(kindDir, id + "/" + recordFileName, ref buffer);
            var record = JsonSerializer.Deserialize(buffer.AsSpan(0, length), typeInfo);
            if (record is not null && IdOf(record) == id)
                return record;
            damage = "its record names another id or is empty";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            damage = $"its record {Path.Combine(ItemDir(id), recordFileName)} cannot be read: {e.Message}";
        }
        RecordStoreLog.DamagedRecord(logger, id, damage);
        return Damaged(id, damage);
    }

    /// <summary>Makes the item's directory, what <paramref name="provision"/> puts in it, and its record appear together.</summary>
    public void Create(TRecord record, Action<string> provision) =>
        Create(IdOf(record), staging =>
        {
            provision(staging);
            return record;
        });

    /// <summary>
    /// As <see cref="Create(TRecord, Action{string})"/>, for a record that can only be written once the item is
    /// built (a snapshot's size is known after the copy): <paramref name="build"/> fills the staging directory and
    /// returns the record. Returns the record as committed.
    /// </summary>
    public TRecord Create(string id, Func<string, TRecord> build)
    {
        string staging = Path.Combine(layout.StagingDir, id);
        DirectoryTree.Remove(staging);
        Directory.CreateDirectory(staging, PrivateDir);
        try
        {
            var record = build(staging);
            AtomicFile.Write(Path.Combine(staging, recordFileName), Serialize(record));
            // The commit point: before this rename the item does not exist, after it, it is complete.
            Directory.Move(staging, ItemDir(id));
            AtomicFile.SyncDirectory(KindDir);
            return record;
        }
        catch
        {
            DirectoryTree.Remove(staging);
            throw;
        }
    }

    /// <summary>
    /// Replaces the item's record durably: after a power loss at any instant it is the old record or the new one,
    /// never an empty or partial file. Throws (ENOSPC, EROFS) with the old record still in place.
    /// </summary>
    public void Update(TRecord record) => Replace(record, survivePowerLoss: true);

    /// <summary>As <see cref="Update"/>; without <paramref name="survivePowerLoss"/> a power loss may bring back the old record even after this returned.</summary>
    protected void Replace(TRecord record, bool survivePowerLoss) =>
        AtomicFile.Write(Path.Combine(ItemDir(IdOf(record)), recordFileName), Serialize(record), survivePowerLoss);

    /// <summary>Removes the item and all its data; one that is already gone is not an error.</summary>
    public void Delete(string id)
    {
        string dir = ItemDir(id);
        if (!Directory.Exists(dir))
        {
            // A retried delete continues where a failed one stopped (a mount inside the volume, a writer that would not stop).
            foreach (var leftover in Directory.EnumerateDirectories(layout.TrashDir, id + "-*"))
                DirectoryTree.Remove(leftover, logger);
            return;
        }
        string trash = Path.Combine(layout.TrashDir, $"{id}-{Interlocked.Increment(ref _trashCounter)}-{Environment.TickCount64}");
        // The commit point: once out of its folder the item is gone; a crash mid-removal is finished at start-up.
        Directory.Move(dir, trash);
        AtomicFile.SyncDirectory(KindDir);
        DirectoryTree.Remove(trash, logger);
    }

    private byte[] Serialize(TRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, typeInfo);
}
