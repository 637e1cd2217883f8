using System.Diagnostics;
using CsiHostPath.Bench.Csi;
using CsiHostPath.Client;
using Grpc.Core;

namespace CsiHostPath.Bench.Runs;

public readonly record struct RunResult(int Succeeded, int Failed, TimeSpan Elapsed);

/// <summary>Runs items 0..count-1, each client taking the next one as soon as it is free, as independent pods' volumes arrive.</summary>
public static class ConcurrentRunner
{
    /// <summary>An item fails when one of its RPCs does; the RPC's status code is counted where it was timed.</summary>
    public static async Task<RunResult> RunAsync(IReadOnlyList<CsiClient> clients, int count, Func<CsiClient, int, Task> item)
    {
        int next = -1, failed = 0;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async client =>
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try
                {
                    await item(client, i);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        return new RunResult(count - failed, failed, elapsed.Elapsed);
    }
}
