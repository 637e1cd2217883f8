using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Volumes;
using CsiHostPath.Volumes.Backings;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeStoreTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("chp-store-");
    private readonly DataDirLayout _layout;

    public VolumeStoreTests()
    {
        _layout = new DataDirLayout(new DriverOptions { DataDir = Path.Combine(_root.FullName, "data") });
    }

    public void Dispose() => _root.Delete(recursive: true);

    private VolumeStore NewStore()
    {
        var store = new VolumeStore(_layout, NullLogger<VolumeStore>.Instance);
        store.Initialize();
        return store;
    }

    private void Create(VolumeStore store, VolumeRecord record) =>
        store.Create(record, staging => new DirectoryBacking(_layout, new LinuxProjectQuotas(), new DirectoryUsageCache(new DriverOptions(), _layout, NullLogger<DirectoryUsageCache>.Instance)).Provision(staging, record));

    private static VolumeRecord Record(string name) => new()
    {
        VolumeId = VolumeId.FromName(name),
        Name = name,
        CapacityBytes = 4096,
        Parameters = new Dictionary<string, string> { [VolumeParameters.PvcName] = "claim" },
        CreatedAt = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero),
        Publications = [new Publication("/target", true, AccessMode.SingleNodeWriter, ["noexec"])],
    };

    [Fact]
    public void Create_ThenReopen_LoadsTheSameRecord()
    {
        var record = Record("pv-1");
        Create(NewStore(), record);

        var loaded = Assert.Single(NewStore().LoadAll());

        Assert.Equal(record.VolumeId, loaded.VolumeId);
        Assert.Equal(record.Name, loaded.Name);
        Assert.Equal(record.CapacityBytes, loaded.CapacityBytes);
        Assert.Equal(record.Parameters, loaded.Parameters);
        Assert.Equal(record.CreatedAt, loaded.CreatedAt);
        Assert.Equal(record.Publications.Single().TargetPath, loaded.Publications.Single().TargetPath);
        Assert.Equal(record.Publications.Single().MountFlags, loaded.Publications.Single().MountFlags);
        Assert.True(Directory.Exists(_layout.DataPath(record.VolumeId)));
        // Only root may enter the driver's own directories; pods reach their data through the bind mount alone.
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(_layout.VolumeDir(record.VolumeId)));
    }

    [Fact]
    public void Initialize_AfterCrashMidCreateAndMidDelete_DiscardsAndFinishesThem()
    {
        var store = NewStore();
        string halfCreated = Path.Combine(_layout.StagingDir, "abc", "data");
        string halfDeleted = Path.Combine(_layout.TrashDir, "def-1-1", "data", "nested");
        Directory.CreateDirectory(halfCreated);
        Directory.CreateDirectory(halfDeleted);

        Assert.Empty(NewStore().LoadAll());

        Assert.Empty(Directory.GetFileSystemEntries(_layout.StagingDir));
        Assert.Empty(Directory.GetFileSystemEntries(_layout.TrashDir));
    }

    [Fact]
    public void LoadAll_TruncatedRecord_MarksOnlyThatVolumeDamaged()
    {
        var store = NewStore();
        Create(store, Record("good"));
        var bad = Record("bad");
        Create(store, bad);
        File.WriteAllText(_layout.RecordPath(bad.VolumeId), "{\"volumeId\": \"" + bad.VolumeId[..10]);

        var loaded = NewStore().LoadAll().ToDictionary(r => r.Name.Length > 0 ? r.Name : r.VolumeId);

        Assert.Null(loaded["good"].Damage);
        Assert.NotNull(loaded[bad.VolumeId].Damage);
    }

    [Fact]
    public void LoadAll_LeftoverTempRecord_IsRemovedAndTheRecordKept()
    {
        var store = NewStore();
        var record = Record("pv");
        Create(store, record);
        File.WriteAllText(_layout.RecordPath(record.VolumeId) + ".tmp", "{half");

        Assert.Equal("pv", Assert.Single(NewStore().LoadAll()).Name);
        Assert.False(File.Exists(_layout.RecordPath(record.VolumeId) + ".tmp"));
    }

    [Fact]
    public void Delete_RemovesDataAndRecord_AndIsIdempotent()
    {
        var store = NewStore();
        var record = Record("pv");
        Create(store, record);
        File.WriteAllText(Path.Combine(_layout.DataPath(record.VolumeId), "file"), "x");

        store.Delete(record.VolumeId);
        Assert.Empty(Directory.GetFileSystemEntries(_layout.TrashDir));
        store.Delete(record.VolumeId);

        Assert.False(Directory.Exists(_layout.VolumeDir(record.VolumeId)));
        Assert.Empty(store.LoadAll());
    }

    /// <summary>What a delete that gave up (a tenant kept writing) left in .trash is finished by the retried delete, and only that volume's.</summary>
    [Fact]
    public void Delete_Retried_FinishesWhatTheFirstLeftInTrash()
    {
        var store = NewStore();
        var record = Record("pv");
        string leftover = Path.Combine(_layout.TrashDir, record.VolumeId + "-1-100");
        string other = Path.Combine(_layout.TrashDir, VolumeId.FromName("other") + "-2-200");
        Directory.CreateDirectory(Path.Combine(leftover, "data", "sub"));
        Directory.CreateDirectory(other);

        store.Delete(record.VolumeId);

        Assert.False(Directory.Exists(leftover), "the retried delete left the first one's remains in .trash");
        Assert.True(Directory.Exists(other), "the retried delete removed another volume's remains");
    }

    [Fact]
    public void Update_ReplacesTheRecord()
    {
        var store = NewStore();
        var record = Record("pv");
        Create(store, record);

        store.Update(record with { CapacityBytes = 8192 });

        Assert.Equal(8192, Assert.Single(NewStore().LoadAll()).CapacityBytes);
        Assert.Equal(["volume.json"], Directory.GetFiles(_layout.VolumeDir(record.VolumeId)).Select(Path.GetFileName));
    }

    [Fact]
    public void LoadAll_RecordNamingAnotherVolume_MarksItDamaged()
    {
        var store = NewStore();
        var record = Record("pv");
        Create(store, record);
        Create(store, Record("other"));
        File.Copy(Path.Combine(_layout.VolumeDir(VolumeId.FromName("other")), "volume.json"), Path.Combine(_layout.VolumeDir(record.VolumeId), "volume.json"), overwrite: true);

        var loaded = NewStore().LoadAll().Single(r => r.VolumeId == record.VolumeId);

        Assert.NotNull(loaded.Damage);
        Assert.Contains("another id", loaded.Damage);
    }

    [Fact]
    public void Initialize_OpenDirectories_MadePrivate()
    {
        Directory.CreateDirectory(_layout.VolumesDir);
        File.SetUnixFileMode(_layout.VolumesDir, (UnixFileMode)0b111_101_101);

        NewStore();

        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(_layout.VolumesDir));
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(_layout.TrashDir));
    }

    /// <summary>A staging directory a crash left for an id is emptied before the id is staged anew.</summary>
    [Fact]
    public void Create_OverAStagingLeftover_StartsFromAnEmptyDirectory()
    {
        var store = NewStore();
        var record = Record("pv");
        Directory.CreateDirectory(Path.Combine(_layout.StagingDir, record.VolumeId, "data"));
        File.WriteAllText(Path.Combine(_layout.StagingDir, record.VolumeId, "data", "stale"), "x");

        Create(store, record);

        Assert.Empty(Directory.GetFileSystemEntries(_layout.DataPath(record.VolumeId)));
    }

    [Fact]
    public void Delete_SymlinkInsideVolume_RemovesTheLinkNotItsTarget()
    {
        var store = NewStore();
        var record = Record("pv");
        Create(store, record);
        string outside = Path.Combine(_root.FullName, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "keep");
        Directory.CreateSymbolicLink(Path.Combine(_layout.DataPath(record.VolumeId), "escape"), outside);

        store.Delete(record.VolumeId);

        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "keep")));
    }

    [Fact]
    public void Archive_MovesDataAndRecordUnderThePvName()
    {
        var store = NewStore();
        var record = Record("pv") with { Parameters = new Dictionary<string, string> { [VolumeParameters.PvName] = "pvc-1234/../x" } };
        Create(store, record);
        File.WriteAllText(Path.Combine(_layout.DataPath(record.VolumeId), "file"), "kept");

        string archived = store.Archive(record);

        Assert.Equal(_layout.ArchiveDir, Path.GetDirectoryName(archived));
        Assert.StartsWith("pvc-1234_.._x-", Path.GetFileName(archived));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(archived, DataDirLayout.DataDirName, "file")));
        Assert.True(File.Exists(Path.Combine(archived, DataDirLayout.RecordFileName)));
        Assert.Empty(NewStore().LoadAll());
    }
}
