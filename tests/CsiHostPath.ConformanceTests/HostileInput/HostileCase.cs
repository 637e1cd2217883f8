using Grpc.Core;

namespace CsiHostPath.ConformanceTests.HostileInput;

/// <summary>One row of the hostile-input table: a call and the status codes the spec allows for it (usually one).</summary>
public sealed record HostileCase(Func<HostileContext, Task> Call, params StatusCode[] Expected);
