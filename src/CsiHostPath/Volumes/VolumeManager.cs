using CsiHostPath.Options;
using CsiHostPath.Os;
using CsiHostPath.Snapshots;
using CsiHostPath.Volumes.Backings;

namespace CsiHostPath.Volumes;

/// <summary>The controller's volume rules: create, delete, expand, look up and list volumes on this node.</summary>
public sealed partial class VolumeManager(
    IVolumeStore store,
    VolumeIndex index,
    VolumeLocks locks,
    NodeTopology topology,
    VolumeBackings backings,
    CapacityPlanner capacity,
    QuotaProjects quotaProjects,
    DataDirProbe probe,
    ContentSources sources,
    DriverOptions options,
    ILogger<VolumeManager> logger)
{
    public VolumeRecord Create(VolumeSpec spec, CancellationToken cancellationToken = default) =>
        Create(spec, VolumeId.FromName(spec.Name, topology.NodeId), ephemeralTarget: null, cancellationToken);

    /// <summary>
    /// An inline ephemeral volume: kubelet names it (csi-&lt;sha256&gt;) and that name is its id, so every NodePublishVolume
    /// for it, a retry after a crash or a reboot included, finds the same volume.
    /// </summary>
    public VolumeRecord CreateEphemeral(VolumeSpec spec, string targetPath) => Create(spec, spec.Name, targetPath, CancellationToken.None);

    private VolumeRecord Create(VolumeSpec spec, string volumeId, string? ephemeralTarget, CancellationToken cancellationToken)
    {
        var parameters = VolumeParameters.Parse(spec.Parameters);
        var (accessType, fsType) = ResolveAccess(parameters.Backing, spec.Accesses);
        EnsureDataDirUsable();
        if (!topology.SatisfiesRequisite(spec.RequisiteTopologies))
            throw new InsufficientCapacityException(
                $"accessibility_requirements exclude this node: volumes of this driver live only on {topology.Key}={topology.NodeId}");
        if (capacity.Inability(parameters.Backing, accessType, fsType, parameters.Quota) is { } inability)
            throw new InsufficientCapacityException(inability);
        long size = ResolveSize(spec.Capacity, parameters.Backing, fsType);

        using var lease = locks.Acquire(volumeId);
        // A volume made before ids named their node keeps its untagged id: a CreateVolume retried across the upgrade finds it.
        string untaggedId = VolumeId.FromName(spec.Name);
        using var untaggedLease = locks.Acquire(untaggedId);
        if ((index.Find(volumeId) ?? index.Find(untaggedId)) is { } existing)
        {
            EnsureCompatible(existing, spec, accessType, fsType);
            return existing;
        }
        var source = spec.Source is null ? null : sources.Resolve(spec.Source);
        if (source is not null)
            size = ContentSources.Fit(source, parameters.Backing, accessType, fsType, spec.Capacity, size);
        // Held until the index has the volume: from then on the index's promise counts instead, and the copy is written.
        long copied = source?.CopyBytes ?? 0;
        using var reservation = capacity.Reserve(size, parameters.Backing,
            available => $"a volume of {size} bytes{(source is null ? "" : $" filled with {copied} bytes copied from its source")} does not fit: {available} bytes are free for new volumes on this node",
            copied);
        using var project = parameters.Quota ? quotaProjects.Take(volumeId) : null;

        var record = new VolumeRecord
        {
            VolumeId = volumeId,
            Name = spec.Name,
            CapacityBytes = size,
            Parameters = new Dictionary<string, string>(spec.Parameters),
            CreatedAt = DateTimeOffset.UtcNow,
            Backing = parameters.Backing,
            AccessType = accessType,
            FsType = fsType,
            OnDelete = parameters.OnDelete,
            ProjectId = project?.Id ?? 0,
            EphemeralTarget = ephemeralTarget,
            Source = spec.Source,
        };
        var backing = backings.For(record);
        if (source is null)
            store.Create(record, staging => backing.Provision(staging, record));
        else
            store.Create(record, staging => sources.Populate(source, staging, record, dir => backing.Provision(dir, record), cancellationToken));
        try
        {
            backing.Activate(record);
            // Restored or cloned into a larger volume: the filesystem grows to fill it, as NodeExpandVolume would.
            if (source is not null && record.CapacityBytes > source.CapacityBytes)
                backing.GrowFileSystem(record);
        }
        catch (Exception e)
        {
            // Not acknowledged, so not kept: a volume that cannot be used must not linger half-made.
            try
            {
                backing.Deactivate(record);
                store.Delete(volumeId);
            }
            catch (Exception cleanup)
            {
                // The original failure is the one the CO must see; a leftover is finished at the next start-up or delete.
                LogRollbackFailed(volumeId, e.Message, cleanup.Message);
            }
            throw;
        }
        index.Put(record);
        LogCreated(volumeId, spec.Name, size, record.Backing);
        return record;
    }

    /// <summary>All capabilities must agree on block or mount; image mounts get a filesystem, ext4 unless asked otherwise.</summary>
    private (AccessType, string) ResolveAccess(Backing backing, IReadOnlyList<VolumeAccess> accesses)
    {
        foreach (var access in accesses)
        {
            if (VolumeAccessPolicy.Refusal(access, backing) is { } refusal)
                throw new InvalidVolumeArgumentException("volume_capabilities", refusal);
        }
        var types = accesses.Select(a => a.AccessType).Distinct().ToList();
        if (types.Count > 1)
            throw new InvalidVolumeArgumentException("volume_capabilities", "mixes block and mount access; a volume is one or the other");
        var fsTypes = accesses.Select(a => a.FsType).Where(f => f.Length > 0).Distinct().ToList();
        if (fsTypes.Count > 1)
            throw new InvalidVolumeArgumentException("volume_capabilities", $"ask for different fs_types: {string.Join(", ", fsTypes)}");
        if (backing == Backing.Directory || types[0] == AccessType.Block)
            return (types[0], "");
        string fsType = fsTypes.Count == 1 ? fsTypes[0] : "ext4";
        if (!FileSystemTools.Supported.Contains(fsType))
            throw new VolumePreconditionException(
                $"fs_type '{fsType}' is not supported for backing=image (supported: {string.Join(", ", FileSystemTools.Supported)})");
        return (types[0], fsType);
    }

    /// <summary>A data dir that is gone or read-only is an outage to wait out (UNAVAILABLE), not a bug in the driver.</summary>
    private void EnsureDataDirUsable()
    {
        if (probe.Problem() is { } problem)
            throw new DataDirUnavailableException(problem);
    }

    private long ResolveSize(CapacityRange range, Backing backing, string fsType)
    {
        long size = range.Resolve(options.DefaultVolumeSizeBytes);
        if (backing == Backing.Directory)
            return size;
        // Whole 1 MiB units keep the image aligned for any filesystem block size; never below what mkfs accepts.
        size = Math.Max(CapacityPlanner.Minimum(backing, fsType), RoundUp(size, 1L << 20));
        if (!range.Allows(size))
            throw new CapacityOutOfRangeException(
                $"an image volume here is a whole number of MiB and at least {CapacityPlanner.Minimum(backing, fsType)} bytes; {size} bytes is outside capacity_range");
        return size;
    }

    private static long RoundUp(long value, long unit) => checked((value + unit - 1) / unit * unit);

    private static void EnsureCompatible(VolumeRecord existing, VolumeSpec spec, AccessType accessType, string fsType)
    {
        if (existing.Damage is not null)
            throw new VolumeConflictException($"volume '{spec.Name}' exists but is damaged ({existing.Damage}); delete it first");
        if (existing.Name != spec.Name)
            throw new VolumeConflictException($"volume id {existing.VolumeId} is taken by volume '{existing.Name}'");
        if (!spec.Capacity.Allows(existing.CapacityBytes))
            throw new VolumeConflictException(
                $"volume '{spec.Name}' already exists with {existing.CapacityBytes} bytes, outside the requested capacity_range");
        if (!ParametersEqual(existing.Parameters, spec.Parameters))
            throw new VolumeConflictException($"volume '{spec.Name}' already exists with different parameters");
        if (existing.Source != spec.Source)
            throw new VolumeConflictException($"volume '{spec.Name}' already exists with another volume_content_source");
        if (existing.AccessType != accessType || existing.FsType != fsType)
            throw new VolumeConflictException(
                $"volume '{spec.Name}' already exists as a {existing.AccessType} volume{(existing.FsType.Length > 0 ? " with " + existing.FsType : "")}");
    }

    private static bool ParametersEqual(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public void Delete(string volumeId)
    {
        using var lease = locks.Acquire(volumeId);
        if (index.Find(volumeId) is not { } record)
            return;
        if (record.Publications.Count > 0)
            throw new VolumePreconditionException(
                $"volume {volumeId} is still published at {string.Join(", ", record.Publications.Select(p => p.TargetPath))}; unpublish it first");
        // A record that cannot be read does not say its backing; an image it may hold is released all the same.
        var backing = record.Damage is null ? backings.For(record) : backings.For(Backing.Image);
        backing.Deactivate(record.Damage is null ? record : record with { AccessType = AccessType.Mount });
        // A damaged record no longer says whether the volume was to be archived; erasing what may have been an
        // archive volume cannot be undone, keeping one that was to be deleted only costs its space.
        if (record.OnDelete == OnDelete.Archive || record.Damage is not null)
        {
            string archived = store.Archive(record);
            index.Remove(volumeId);
            LogArchived(volumeId, record.Name, archived);
            return;
        }
        try
        {
            store.Delete(volumeId);
        }
        catch (DirectoryInUseException e)
        {
            // The spec's "volume in use": the provisioner retries with backoff, and a retry finishes what is left in .trash.
            throw new VolumePreconditionException(
                $"volume {volumeId} is in use: {e.Message}; a retried DeleteVolume finishes the removal once nothing writes into it");
        }
        index.Remove(volumeId);
        LogDeleted(volumeId, record.Name);
    }

    /// <summary>Grows the volume; returns its new size and whether NodeExpandVolume must grow its filesystem.</summary>
    public (long CapacityBytes, bool NodeExpansionRequired) Expand(string volumeId, CapacityRange range)
    {
        using var lease = locks.Acquire(volumeId);
        var record = Usable(volumeId);
        if (range.LimitBytes > 0 && range.LimitBytes < record.CapacityBytes)
            throw new CapacityOutOfRangeException(
                $"volume {volumeId} has {record.CapacityBytes} bytes and cannot shrink to the limit of {range.LimitBytes}");
        var backing = backings.For(record);
        // A retry finishes what a crash cut short: the record may already say more than the storage has.
        if (range.RequiredBytes <= record.CapacityBytes)
            return (record.CapacityBytes, backing.Grow(record, record.CapacityBytes));
        if (backing.GrowthRefusal(record) is { } refusal)
            throw new VolumePreconditionException(refusal);
        long size = ResolveSize(range, record.Backing, record.FsType);
        long growth = size - record.CapacityBytes;
        // Held until the index has the grown volume, whose larger promise counts from then on.
        using var reservation = capacity.Reserve(growth, record.Backing,
            available => $"growing volume {volumeId} by {growth} bytes does not fit: {available} bytes are free");
        // The record says the new size before the storage grows, and the storage never exceeds the record: a crash in
        // between leaves a volume that a retry or the next start-up grows to its record, never one larger than it.
        var grown = record with { CapacityBytes = size };
        store.Update(grown);
        index.Put(grown);
        bool nodeExpansion = backing.Grow(grown, size);
        LogExpanded(volumeId, size);
        return (size, nodeExpansion);
    }

    public VolumeRecord Get(string volumeId) =>
        index.Find(volumeId) ?? throw new VolumeNotFoundException(volumeId);

    /// <summary>
    /// The volume, for a call that every node's sidecar makes about every volume (csi-resizer has no per-node mode): a
    /// volume whose id names another node is that node's to serve, which is not the same as a volume that exists nowhere.
    /// </summary>
    public VolumeRecord GetHere(string volumeId)
    {
        if (index.Find(volumeId) is { } record)
            return record;
        if (VolumeId.CreatorTag(volumeId) is { } creator && creator != VolumeId.NodeTag(topology.NodeId))
            throw new VolumeElsewhereException(volumeId, topology.NodeId);
        throw new VolumeNotFoundException(volumeId);
    }

    private VolumeRecord Usable(string volumeId)
    {
        var record = Get(volumeId);
        return record.Damage is null ? record : throw new VolumePreconditionException($"volume {volumeId} is damaged: {record.Damage}");
    }

    /// <summary>A page of volumes in id order; the token is the id of the last volume returned, so deletions between pages do not disturb paging.</summary>
    public (IReadOnlyList<VolumeRecord> Page, string NextToken) List(int maxEntries, string startingToken)
    {
        if (startingToken.Length > 0 && !VolumeId.IsWellFormed(startingToken))
            throw new InvalidPageTokenException(startingToken);
        var (page, more) = index.Page(startingToken.Length > 0 ? startingToken : null, maxEntries > 0 ? maxEntries : int.MaxValue);
        return (page, more ? page[^1].VolumeId : "");
    }

    /// <summary>Bytes a new volume could get on this node, and the smallest volume of that kind.</summary>
    public (long Available, long Minimum) Capacity(IReadOnlyDictionary<string, string> parameters, IReadOnlyList<VolumeAccess> accesses)
    {
        var parameterValues = VolumeParameters.Parse(parameters);
        var backing = parameterValues.Backing;
        if (accesses.Any(a => VolumeAccessPolicy.Refusal(a, backing) is not null))
            return (0, 0);
        EnsureDataDirUsable();
        var accessType = accesses.Count > 0 && accesses.All(a => a.AccessType == AccessType.Block) ? AccessType.Block : AccessType.Mount;
        string fsType = backing == Backing.Image && accessType == AccessType.Mount
            ? accesses.Select(a => a.FsType).FirstOrDefault(f => f.Length > 0) ?? "ext4"
            : "";
        // What this node cannot make has no capacity here, so the scheduler places such volumes where they can be made.
        if ((fsType.Length > 0 && !FileSystemTools.Supported.Contains(fsType))
            || capacity.Inability(backing, accessType, fsType, parameterValues.Quota) is not null)
            return (0, 0);
        return (capacity.Available(), CapacityPlanner.Minimum(backing, fsType));
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Created volume {VolumeId} ({VolumeName}, {CapacityBytes} bytes, {Backing})")]
    private partial void LogCreated(string volumeId, string volumeName, long capacityBytes, Backing backing);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Deleted volume {VolumeId} ({VolumeName})")]
    private partial void LogDeleted(string volumeId, string volumeName);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Archived volume {VolumeId} ({VolumeName}) to {ArchivePath}")]
    private partial void LogArchived(string volumeId, string volumeName, string archivePath);

    [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "Volume {VolumeId} could not be activated ({Reason}) nor removed again ({CleanupReason})")]
    private partial void LogRollbackFailed(string volumeId, string reason, string cleanupReason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "Expanded volume {VolumeId} to {CapacityBytes} bytes")]
    private partial void LogExpanded(string volumeId, long capacityBytes);
}
