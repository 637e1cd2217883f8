using System.Text.Json.Serialization;

namespace CsiHostPath.Bench.Output;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(StartupReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
