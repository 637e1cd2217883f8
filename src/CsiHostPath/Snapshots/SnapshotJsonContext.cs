using System.Text.Json.Serialization;

namespace CsiHostPath.Snapshots;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SnapshotRecord))]
[JsonSerializable(typeof(GroupSnapshotRecord))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
