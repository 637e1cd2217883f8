using Grpc.Core;

namespace CsiHostPath.ConformanceTests.Infrastructure;

/// <summary>Assertions on a failed call as the spec's Error Scheme describes one: the code, a readable message, no details.</summary>
public static class CsiAssert
{
    /// <summary>
    /// The call fails with <paramref name="code"/>; its message is not empty (spec: MUST be human readable) and names
    /// <paramref name="field"/> when given, so the CO's user can tell which field to fix.
    /// </summary>
    public static async Task<RpcException> FailsWith<T>(StatusCode code, Func<AsyncUnaryCall<T>> call, string? field = null)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call());
        Assert.True(error.StatusCode == code, $"expected {code}, got {error.StatusCode}: {error.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail), $"{code} came without a message");
        Assert.DoesNotContain(error.Trailers, t => t.Key == "grpc-status-details-bin");
        if (field is not null)
            Assert.True(Loose(error.Status.Detail).Contains(Loose(field), StringComparison.Ordinal), $"the message does not name {field}: {error.Status.Detail}");
        return error;
    }

    // "volume_id", "Volume ID" and "VolumeId" all name the field for a reader.
    private static string Loose(string text) => text.Replace("_", "").Replace(" ", "").ToLowerInvariant();

    /// <summary>The status a call ends with, OK included, for tables whose rows expect either.</summary>
    public static async Task<Status> StatusOf(Func<Task> call)
    {
        try
        {
            await call();
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }
}
