using CsiHostPath.Interop;
using CsiHostPath.Options;
using CsiHostPath.Os;

namespace CsiHostPath.Volumes;

/// <summary>
/// Where things live under --data-dir:
///   volumes/&lt;id&gt;/volume.json   the record
///   volumes/&lt;id&gt;/data/         what pods see (directory backing)
///   volumes/&lt;id&gt;/image, mount/ the image file and where its filesystem is mounted (image backing)
///   snapshots/&lt;id&gt;/snapshot.json, data/ or image   a snapshot: its record and its copy of the volume
///   group-snapshots/&lt;id&gt;/group.json  a volume group snapshot's record (its members are in snapshots/)
///   archived/&lt;pv&gt;-&lt;time&gt;/    volumes deleted with onDelete: archive, record and all
///   .staging/&lt;id&gt;/            a volume being created; renamed into volumes/ when complete
///   .trash/&lt;id&gt;-&lt;n&gt;/          a volume being removed; renamed out of volumes/ first
/// Both renames are atomic, so a crash leaves a volume either wholly present or wholly absent.
/// </summary>
public sealed class DataDirLayout(DriverOptions options)
{
    public const string RecordFileName = "volume.json";
    public const string DataDirName = "data";
    public const string VolumesDirName = "volumes";
    public const string ImageFileName = "image";
    public const string MountDirName = "mount";
    public const string SnapshotsDirName = "snapshots";
    public const string SnapshotRecordFileName = "snapshot.json";
    public const string GroupsDirName = "group-snapshots";
    public const string GroupRecordFileName = "group.json";

    /// <summary>The data dir as the kernel names it: a symlink in --data-dir would make every mount and loop device look foreign.</summary>
    public string Root { get; } = CanonicalPath.OfAll(options.DataDir);

    public string VolumesDir => Path.Combine(Root, VolumesDirName);

    public string StagingDir => Path.Combine(Root, ".staging");

    public string TrashDir => Path.Combine(Root, ".trash");

    public string ArchiveDir => Path.Combine(Root, "archived");

    public string VolumeDir(string volumeId) => Path.Combine(VolumesDir, volumeId);

    public string RecordPath(string volumeId) => Path.Combine(VolumesDir, volumeId, RecordFileName);

    public string DataPath(string volumeId) => Path.Combine(VolumesDir, volumeId, DataDirName);

    public string ImagePath(string volumeId) => Path.Combine(VolumesDir, volumeId, ImageFileName);

    public string MountPath(string volumeId) => Path.Combine(VolumesDir, volumeId, MountDirName);

    public string SnapshotDir(string snapshotId) => Path.Combine(Root, SnapshotsDirName, snapshotId);

    /// <summary>Opens the volume's data directory, refusing it if it or any directory above it within the data dir is a symlink.</summary>
    public SafeFdHandle OpenData(string volumeId) => SafeDirectory.OpenBeneath(Root, VolumesDirName, volumeId, DataDirName);

    /// <summary>Opens the root of an image volume's mounted filesystem, with the same refusal of symlinks.</summary>
    public SafeFdHandle OpenMount(string volumeId) => SafeDirectory.OpenBeneath(Root, VolumesDirName, volumeId, MountDirName);
}
