namespace CsiHostPath.Volumes;

// The domain's failures. Each names a CSI condition; Grpc/ErrorMappingInterceptor turns them into status codes.

/// <summary>A field's value is not one this driver accepts (INVALID_ARGUMENT).</summary>
public sealed class InvalidVolumeArgumentException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}

public sealed class VolumeNotFoundException(string volumeId, string? detail = null)
    : Exception($"volume {volumeId} does not exist{(detail is null ? "" : ": " + detail)}");

/// <summary>
/// The volume id names another node as the volume's home (UNAVAILABLE): that node's driver serves it. Not NOT_FOUND,
/// which csi-resizer takes as final and records on the PVC as ControllerResizeInfeasible, over the owner's progress.
/// </summary>
public sealed class VolumeElsewhereException(string volumeId, string nodeId)
    : Exception($"volume {volumeId} lives on another node, not on {nodeId}: the resizer and driver of the node in its PV's node affinity serve it");

/// <summary>A volume of that name exists but differs, or a target is published differently (ALREADY_EXISTS).</summary>
public sealed class VolumeConflictException(string message) : Exception(message);

/// <summary>The volume is in a state that forbids the call: published, or asked for more than it supports (FAILED_PRECONDITION).</summary>
public sealed class VolumePreconditionException(string message) : Exception(message);

/// <summary>The capacity range cannot be honoured (OUT_OF_RANGE).</summary>
public sealed class CapacityOutOfRangeException(string message) : Exception(message);

/// <summary>No room for the volume on this node, or not on this node at all (RESOURCE_EXHAUSTED).</summary>
public sealed class InsufficientCapacityException(string message) : Exception(message);

/// <summary>Another call on the same volume or target is in flight (ABORTED).</summary>
public sealed class OperationPendingException(string subject)
    : Exception($"an operation on {subject} is already in progress; retry later");

/// <summary>The target_path or volume_path went away while the call was working on it (NOT_FOUND).</summary>
public sealed class TargetNotFoundException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A ListVolumes starting_token this driver did not issue (ABORTED).</summary>
public sealed class InvalidPageTokenException(string token) : Exception($"starting_token '{token}' was not issued by this driver");

/// <summary>The data directory cannot be used at the moment (UNAVAILABLE).</summary>
public sealed class DataDirUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
