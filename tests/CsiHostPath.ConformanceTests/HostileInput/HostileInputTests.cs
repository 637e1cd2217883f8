using CsiHostPath.ConformanceTests.Infrastructure;
using CsiHostPath.Testing;

namespace CsiHostPath.ConformanceTests.HostileInput;

/// <summary>
/// The hostile-input table (<see cref="HostileCases"/>): each row's status code, then the whole table in one go followed
/// by proof that nothing outside the driver's data dir and the targets changed and nothing got mounted elsewhere.
/// </summary>
public sealed class HostileInputTests(CsiEndpoint endpoint) : IClassFixture<CsiEndpoint>, IAsyncLifetime
{
    private HostileContext _context = null!;

    public static TheoryData<string> Rows => new(HostileCases.All.Keys);

    public async Task InitializeAsync()
    {
        string canary = endpoint.Root.Combine("canary");
        Directory.CreateDirectory(Path.Combine(canary, "nested", "deeper"));
        await File.WriteAllTextAsync(Path.Combine(canary, "precious.txt"), "must survive");
        await File.WriteAllTextAsync(Path.Combine(canary, "nested", "deeper", "also.txt"), "must survive too");
        var victim = await endpoint.CreateVolumeAsync("victim");
        _context = new HostileContext(endpoint, victim.VolumeId, canary);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task HostileInput_Row_ExpectedStatus(string row)
    {
        var hostile = HostileCases.All[row];

        var status = await CsiAssert.StatusOf(() => hostile.Call(_context));

        Assert.True(hostile.Expected.Contains(status.StatusCode), $"expected {string.Join(" or ", hostile.Expected)}, got {status.StatusCode}: {status.Detail}");
    }

    [Fact]
    public async Task HostileInput_WholeTable_NothingOutsideDataDirAndTargetsChanged()
    {
        // The driver inherits this process's working directory, where a relative path would land.
        string[] roots = [endpoint.Root.Path, Environment.CurrentDirectory];
        string[] excluded = [endpoint.Root.Combine("data"), endpoint.TargetRoot];
        var before = TreeSnapshot.Take(roots, excluded);

        var wrong = new List<string>();
        foreach (var (row, hostile) in HostileCases.All)
        {
            var status = await CsiAssert.StatusOf(() => hostile.Call(_context));
            if (!hostile.Expected.Contains(status.StatusCode))
                wrong.Add($"{row}: {status.StatusCode} {status.Detail}");
        }

        Assert.Empty(wrong);
        Assert.Empty(before.Differences(TreeSnapshot.Take(roots, excluded)));
        Assert.All(Mounts.Beneath(endpoint.Root.Path), m => Assert.StartsWith(endpoint.TargetRoot + "/", m));
        Assert.Empty(Mounts.Beneath(endpoint.TargetRoot));
        Assert.Equal("must survive", await File.ReadAllTextAsync(Path.Combine(_context.CanaryDir, "precious.txt")));
    }
}
