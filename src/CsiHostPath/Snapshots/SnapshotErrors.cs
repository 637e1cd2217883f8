namespace CsiHostPath.Snapshots;

// Snapshot failures that have no volume counterpart; Grpc/ErrorMappingInterceptor maps them.

/// <summary>The snapshot or group snapshot does not exist (NOT_FOUND).</summary>
public sealed class SnapshotNotFoundException(string what) : Exception($"{what} does not exist");
