using System.Diagnostics;
using CsiHostPath.Bench.Output;
using Grpc.Core;

namespace CsiHostPath.Bench.Stats;

/// <summary>Times every RPC a run makes and counts its failures by status code; safe to share between clients.</summary>
public sealed class RpcStats
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LatencyHistogram> _latencies = [];
    private readonly Dictionary<string, Dictionary<string, int>> _errors = [];
    private readonly List<string> _order = [];

    public async Task<T> TimeAsync<T>(string rpc, Func<AsyncUnaryCall<T>> call)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var response = await call();
            Record(rpc, Stopwatch.GetElapsedTime(start), error: null);
            return response;
        }
        catch (RpcException e)
        {
            Record(rpc, latency: null, e.StatusCode.ToString());
            throw;
        }
    }

    private void Record(string rpc, TimeSpan? latency, string? error)
    {
        lock (_lock)
        {
            if (!_latencies.TryGetValue(rpc, out var histogram))
            {
                _latencies[rpc] = histogram = new LatencyHistogram();
                _errors[rpc] = [];
                _order.Add(rpc);
            }
            if (latency is { } successful)
                histogram.Add(successful);
            if (error is not null)
                _errors[rpc][error] = _errors[rpc].GetValueOrDefault(error) + 1;
        }
    }

    /// <summary>One line per RPC, in the order the run first called them.</summary>
    public IReadOnlyList<RpcReport> Report()
    {
        lock (_lock)
        {
            return _order.Select(rpc =>
            {
                var histogram = _latencies[rpc];
                var errors = _errors[rpc];
                return new RpcReport(rpc, histogram.Count + errors.Values.Sum(), errors.Values.Sum(),
                    histogram.Percentile(50), histogram.Percentile(99), histogram.Max, new Dictionary<string, int>(errors));
            }).ToList();
        }
    }
}
