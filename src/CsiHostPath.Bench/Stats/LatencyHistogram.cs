namespace CsiHostPath.Bench.Stats;

/// <summary>
/// Every latency of one RPC, kept whole: a run makes at most some tens of thousands of calls,
/// so exact percentiles cost less than a bucketed approximation would explain.
/// </summary>
public sealed class LatencyHistogram
{
    private readonly List<double> _milliseconds = [];

    public int Count => _milliseconds.Count;

    public void Add(TimeSpan latency) => _milliseconds.Add(latency.TotalMilliseconds);

    /// <summary>The nearest-rank percentile in milliseconds (0 when empty), p in (0, 100].</summary>
    public double Percentile(double p)
    {
        if (_milliseconds.Count == 0)
            return 0;
        _milliseconds.Sort();
        int rank = (int)Math.Ceiling(p / 100 * _milliseconds.Count);
        return _milliseconds[Math.Clamp(rank, 1, _milliseconds.Count) - 1];
    }

    public double Max => _milliseconds.Count == 0 ? 0 : _milliseconds.Max();
}
