using CsiHostPath.Volumes;

namespace CsiHostPath.Snapshots;

/// <summary>
/// CreateVolume's content source: finds the snapshot or volume, checks that the new volume can hold it, and fills the
/// new volume's staging directory from it. The source is locked while it is copied, so it cannot be deleted mid-copy.
/// </summary>
public sealed class ContentSources(
    SnapshotIndex snapshots,
    VolumeIndex volumes,
    VolumeLocks locks,
    VolumeContent content,
    DataDirLayout layout)
{
    /// <summary>What the source is and what a copy of it will write; NOT_FOUND if it does not exist.</summary>
    public SourceContent Resolve(VolumeSource source)
    {
        if (source.Kind == VolumeSourceKind.Snapshot)
        {
            var snapshot = snapshots.Find(source.Id) is { Damage: null } found ? found : throw new SnapshotNotFoundException($"snapshot {source.Id}");
            return new SourceContent(source, snapshot.Backing, snapshot.AccessType, snapshot.FsType, snapshot.SourceCapacityBytes, content.CopyBytes(snapshot), null);
        }
        var volume = volumes.Find(source.Id) is { Damage: null } v ? v : throw new VolumeNotFoundException(source.Id);
        return new SourceContent(source, volume.Backing, volume.AccessType, volume.FsType, volume.CapacityBytes, content.CopyBytes(volume), volume);
    }

    /// <summary>
    /// Refuses a new volume that cannot take the source's content: another backing or access type (INVALID_ARGUMENT,
    /// naming both), or a limit below the source's size (OUT_OF_RANGE). Returns the new volume's size.
    /// </summary>
    public static long Fit(SourceContent source, Backing backing, AccessType accessType, string fsType, CapacityRange range, long resolvedSize)
    {
        string what = source.Source.Kind == VolumeSourceKind.Snapshot ? "snapshot" : "volume";
        if (source.Backing != backing || source.AccessType != accessType || (source.FsType.Length > 0 && fsType.Length > 0 && source.FsType != fsType))
            throw new InvalidVolumeArgumentException("volume_content_source",
                $"source {what} {source.Source.Id} is a {Describe(source.Backing, source.AccessType, source.FsType)} volume; the new volume would be {Describe(backing, accessType, fsType)}");
        if (range.LimitBytes > 0 && range.LimitBytes < source.CapacityBytes || range.RequiredBytes > 0 && resolvedSize < source.CapacityBytes)
            throw new CapacityOutOfRangeException(
                $"source {what} {source.Source.Id} holds a volume of {source.CapacityBytes} bytes; a volume made from it cannot be smaller, and capacity_range asks for {range.RequiredBytes}..{range.LimitBytes}");
        return Math.Max(resolvedSize, source.CapacityBytes);
    }

    private static string Describe(Backing backing, AccessType accessType, string fsType) =>
        $"{backing.ToString().ToLowerInvariant()} {accessType.ToString().ToLowerInvariant()}{(fsType.Length > 0 ? " " + fsType : "")}";

    /// <summary>Fills <paramref name="stagingDir"/> of the new volume from the source, under the source's lock; <paramref name="provision"/> prepares a directory volume's data dir first (its quota).</summary>
    public void Populate(SourceContent source, string stagingDir, VolumeRecord target, Action<string> provision, CancellationToken cancellationToken)
    {
        using var lease = locks.Acquire(source.Source.Id);
        if (source.Volume is { } volume)
        {
            // The volume may have been deleted between Resolve and the lock.
            if (volumes.Find(volume.VolumeId) is null)
                throw new VolumeNotFoundException(volume.VolumeId);
            using var freezes = content.Freeze([volume], cancellationToken);
            Fill(source, layout.VolumeDir(volume.VolumeId), stagingDir, target, provision, freezes.Token);
            return;
        }
        if (snapshots.Find(source.Source.Id) is null)
            throw new SnapshotNotFoundException($"snapshot {source.Source.Id}");
        Fill(source, layout.SnapshotDir(source.Source.Id), stagingDir, target, provision, cancellationToken);
    }

    private void Fill(SourceContent source, string sourceItemDir, string stagingDir, VolumeRecord target, Action<string> provision, CancellationToken cancellationToken)
    {
        if (source.Backing == Backing.Directory)
            provision(stagingDir);
        content.Copy(source.Backing, sourceItemDir, stagingDir, cancellationToken);
        if (source.Backing == Backing.Directory)
            return;
        string imagePath = Path.Combine(stagingDir, DataDirLayout.ImageFileName);
        // Larger than the source: the image grows now; its filesystem grows once mounted, as an expansion would.
        using (var image = new FileStream(imagePath, FileMode.Open, FileAccess.Write))
        {
            if (image.Length < target.CapacityBytes)
                image.SetLength(target.CapacityBytes);
        }
        if (target.AccessType == AccessType.Mount)
            Directory.CreateDirectory(Path.Combine(stagingDir, DataDirLayout.MountDirName));
    }
}
