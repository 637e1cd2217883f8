using System.Text.Json;
using System.Text.RegularExpressions;
using CsiHostPath.DeployTests.Infrastructure;

namespace CsiHostPath.DeployTests;

/// <summary>
/// deploy/monitoring/grafana-dashboard.json: valid JSON that Grafana imports (its panel and variable shape), panels for
/// what operators asked for, and queries that name only the metrics README.md lists, so a renamed metric fails here.
/// </summary>
public sealed partial class MonitoringTests
{
    private static readonly string DashboardPath = Path.Combine(Repository.Deploy, "monitoring", "grafana-dashboard.json");

    [Fact]
    public void Dashboard_IsJsonGrafanaImports()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = dashboard.RootElement;

        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36);
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var datasource = Assert.Single(variables, v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());
        string datasourceRef = "${" + datasource.GetProperty("name").GetString() + "}";

        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels, panel =>
        {
            var grid = panel.GetProperty("gridPos");
            Assert.True(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32() <= 24, $"panel {panel.GetProperty("title")} is wider than the dashboard");
            Assert.True(grid.GetProperty("h").GetInt32() > 0);
            if (panel.GetProperty("type").GetString() == "row")
                return;
            Assert.Equal(datasourceRef, panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.NotEmpty(panel.GetProperty("targets").EnumerateArray());
        });
    }

    [Fact]
    public void Dashboard_Queries_AreBalancedAndNameOnlyMetricsTheReadmeLists()
    {
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));

        Assert.All(Expressions(), expr =>
        {
            Assert.Equal(expr.Count(c => c == '('), expr.Count(c => c == ')'));
            Assert.Equal(expr.Count(c => c == '{'), expr.Count(c => c == '}'));
            foreach (var metric in MetricNames(expr))
                Assert.Contains($"`{metric}`", readme, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Dashboard_Panels_CoverRpcsCapacityPerNodeVolumesAndSnapshots()
    {
        var expressions = Expressions().ToList();
        var metrics = expressions.SelectMany(MetricNames).ToHashSet();

        Assert.Superset(
            new HashSet<string> { "csi_hostpath_rpc_requests_total", "csi_hostpath_rpc_duration_seconds", "csi_hostpath_capacity_free_bytes", "csi_hostpath_used_bytes", "csi_hostpath_volumes", "csi_hostpath_snapshots" },
            metrics);
        Assert.Contains(expressions, e => e.Contains("csi_hostpath_rpc_requests_total", StringComparison.Ordinal) && e.Contains("code!=\"OK\"", StringComparison.Ordinal) && e.Contains("by (method", StringComparison.Ordinal));
        Assert.Contains(expressions, e => e.StartsWith("histogram_quantile(", StringComparison.Ordinal) && e.Contains("by (le, method)", StringComparison.Ordinal));
        Assert.Contains(expressions, e => e.Contains("csi_hostpath_capacity_free_bytes", StringComparison.Ordinal) && e.Contains("by (node)", StringComparison.Ordinal));
    }

    private static IEnumerable<string> Expressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
    }

    /// <summary>The metric families a query reads: a histogram's _bucket, _sum and _count series belong to their base name.</summary>
    private static IEnumerable<string> MetricNames(string expr) =>
        MetricName().Matches(expr).Select(m => HistogramSeries().Replace(m.Value, ""));

    [GeneratedRegex("csi_hostpath_[a-z_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}
