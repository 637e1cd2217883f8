using System.Text.RegularExpressions;
using CsiHostPath.Metrics;
using CsiHostPath.Options;

namespace CsiHostPath.Volumes;

/// <summary>
/// CSI ephemeral inline volumes: a pod's scratch space, created by its NodePublishVolume and deleted by its
/// NodeUnpublishVolume. Each is an ordinary volume (the controller's create path, the node's publish path) whose record
/// remembers its target, so a volume whose pod is gone for good can be found and removed by <see cref="Sweep"/>.
/// </summary>
public sealed partial class EphemeralVolumes(
    VolumeManager manager,
    VolumePublisher publisher,
    VolumeIndex index,
    DriverOptions options,
    ILogger<EphemeralVolumes> logger)
{
    // kubelet's makeVolumeHandle: "csi-" and the hex SHA-256 of the pod uid and the volume's name in the pod spec.
    [GeneratedRegex("^csi-[0-9a-f]{64}$")]
    private static partial Regex KubeletVolumeHandle();

    private bool _podsDirMissingLogged;

    /// <summary>
    /// True for the ids kubelet gives inline volumes. Never the shape of a persistent volume's id, so an unpublish can tell
    /// an ephemeral volume that is already gone (OK: kubelet retries a failed unpublish forever) from an unknown volume.
    /// </summary>
    public static bool IsEphemeralVolumeId(string volumeId) => KubeletVolumeHandle().IsMatch(volumeId);

    /// <summary>Creates the volume unless it exists (a retry, a restarted pod, a reboot: its data is kept), then publishes it.</summary>
    public void Publish(string volumeId, string targetPath, VolumeAccess access, bool readOnly, IReadOnlyDictionary<string, string> volumeContext)
    {
        if (!options.EphemeralVolumes)
            throw new InvalidVolumeArgumentException("volume_context",
                $"{EphemeralVolumeAttributes.EphemeralKey}: inline ephemeral volumes are turned off on this node (--ephemeral-volumes=false); use a PersistentVolumeClaim or a generic ephemeral volume");
        if (!IsEphemeralVolumeId(volumeId))
            throw new InvalidVolumeArgumentException("volume_id",
                $"'{volumeId}' is not the id kubelet gives an inline ephemeral volume (csi- and a hex SHA-256)");
        var attributes = EphemeralVolumeAttributes.Parse(volumeContext, options.DefaultVolumeSizeBytes);
        if (attributes.SizeBytes > options.MaxEphemeralVolumeSizeBytes)
            throw new CapacityOutOfRangeException(
                $"volume_context: size {attributes.SizeBytes} bytes is more than an inline ephemeral volume may have on this node (--max-ephemeral-volume-size {options.MaxEphemeralVolumeSizeBytes} bytes)");
        if (access.FsType.Length > 0 && attributes.FsType.Length > 0 && access.FsType != attributes.FsType)
            throw new InvalidVolumeArgumentException("volume_context",
                $"{EphemeralVolumeAttributes.FsTypeKey} '{attributes.FsType}' contradicts the volume's fsType '{access.FsType}'");
        if (index.Find(volumeId) is { EphemeralTarget: { } existingTarget } && existingTarget != targetPath)
            throw new VolumePreconditionException($"inline ephemeral volume {volumeId} belongs to the pod whose target is {existingTarget}");

        var volumeAccess = access with { FsType = access.FsType.Length > 0 ? access.FsType : attributes.FsType };
        var spec = new VolumeSpec(volumeId, new CapacityRange(attributes.SizeBytes, options.MaxEphemeralVolumeSizeBytes),
            [volumeAccess], attributes.Parameters, []);
        manager.CreateEphemeral(spec, targetPath);
        publisher.Publish(volumeId, targetPath, volumeAccess, readOnly);
    }

    /// <summary>Unmounts and deletes the volume; a volume already gone is not an error. Each step resumes what a crash left.</summary>
    public void Unpublish(string volumeId, string targetPath)
    {
        if (index.Find(volumeId) is not { } record)
        {
            LogAlreadyGone(volumeId, targetPath);
            return;
        }
        try
        {
            publisher.Unpublish(volumeId, targetPath);
            // Deleted only once no target holds it: an unpublish at some other path must not take the pod's data away.
            if (record.IsEphemeral && index.Find(volumeId) is { Publications.Count: 0 })
                manager.Delete(volumeId);
        }
        catch (VolumeNotFoundException)
        {
            LogAlreadyGone(volumeId, targetPath);
        }
    }

    /// <summary>Removes the ephemeral volumes whose kubelet pod directory no longer exists; returns how many.</summary>
    public int Sweep()
    {
        int removed = 0;
        foreach (var record in index.All())
        {
            if (record.EphemeralTarget is not { } target || EphemeralPodDirectory.Of(target) is not { } podDir)
                continue;
            if (!Directory.Exists(Path.GetDirectoryName(podDir)))
            {
                // Not kubelet's pods dir as this driver sees it (not mounted in?): every pod would look gone.
                if (!_podsDirMissingLogged)
                    LogPodsDirMissing(Path.GetDirectoryName(podDir)!);
                _podsDirMissingLogged = true;
                continue;
            }
            if (Directory.Exists(podDir))
                continue;
            try
            {
                foreach (var publication in record.Publications)
                    publisher.Unpublish(record.VolumeId, publication.TargetPath);
                manager.Delete(record.VolumeId);
                DriverMeter.EphemeralVolumesSwept.Add(1);
                LogSwept(record.VolumeId, podDir);
                removed++;
            }
            catch (Exception e) when (e is OperationPendingException or VolumePreconditionException or IOException or Interop.ErrnoException)
            {
                // A call in flight on it, or a busy mount: the next sweep tries again.
                LogSweepDeferred(record.VolumeId, e.Message);
            }
        }
        return removed;
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Debug, Message = "Inline ephemeral volume {VolumeId} is already gone; nothing to unpublish at {TargetPath}")]
    private partial void LogAlreadyGone(string volumeId, string targetPath);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Removed inline ephemeral volume {VolumeId}: its pod is gone ({PodDirectory} no longer exists)")]
    private partial void LogSwept(string volumeId, string podDirectory);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Inline ephemeral volume {VolumeId} is left for the next sweep: {Reason}")]
    private partial void LogSweepDeferred(string volumeId, string reason);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "kubelet's pods directory {PodsDirectory} is not visible to the driver; inline ephemeral volumes of gone pods are kept")]
    private partial void LogPodsDirMissing(string podsDirectory);
}
