using System.Text.RegularExpressions;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Xunit.Abstractions;
using static CsiHostPath.ReliabilityTests.Infrastructure.ImageNode;

namespace CsiHostPath.ReliabilityTests.ImageFaults;

/// <summary>
/// Issue 19 item 7: start-up finds the loop devices of every image volume in one pass over /sys/block, not one pass per
/// volume (which made start-up volumes × devices: 18,831 reads for 201 volumes). The restarted driver runs under
/// strace from its first instruction, and the reads of each device's <c>loop/autoclear</c> (the first thing the scan
/// reads of a device) are counted.
/// </summary>
public sealed partial class ImageStartupScanTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Volumes = 24;
    private ImageNode _node = null!;

    public async Task InitializeAsync() => _node = await ImageNode.StartAsync("chp-imgscan");

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Restart_WithManyImageVolumes_ScansTheLoopDevicesOnce_AndAdoptsEveryVolume()
    {
        // Block volumes: no mkfs, so CI makes two dozen in a few seconds; their recovery is the same scan and adoption.
        var volumes = new List<string>();
        for (int i = 0; i < Volumes; i++)
            volumes.Add(await _node.CreateAsync($"pvc-scan-{i}", 4 * MiB, "block"));
        var devicesBefore = volumes.ToDictionary(v => v, v => _node.LoopDevicesOf(v).Single());
        Assert.Equal(0, await _node.Driver.StopAsync());
        int loopsBefore = SysBlockLoops();

        string log = _node.Root.Combine("startup.strace");
        await using var traced = await _node.StartAnotherAsync(["strace", "-f", "-qq", "-o", log, "-e", "trace=openat"]);
        int driver = int.Parse(File.ReadAllText($"/proc/{traced.Pid}/task/{traced.Pid}/children").Trim());
        try
        {
            foreach (var (volume, device) in devicesBefore)
            {
                var got = await traced.Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume });
                Assert.False(got.Status.VolumeCondition.Abnormal, got.Status.VolumeCondition.Message);
                Assert.Equal([device], _node.LoopDevicesOf(volume));
            }
        }
        finally
        {
            // strace itself blocks SIGTERM while it runs a command with -o; the driver's exit ends strace.
            Native.Kill(driver, 15);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await traced.WaitForExitAsync(limit.Token));
        }
        // Counted once strace has written everything; no call after start-up scans the devices again.
        int scanReads = AutoclearRead().Count(File.ReadAllText(log));
        int loops = Math.Max(loopsBefore, SysBlockLoops());
        output.WriteLine($"{Volumes} image volumes, {loops} loop devices in /sys/block: {scanReads} reads of loop/autoclear at start-up");

        Assert.InRange(scanReads, 1, loops + 2);
    }

    /// <summary>Loop devices the kernel lists, attached or not: each is read once by a scan.</summary>
    private static int SysBlockLoops() => Directory.EnumerateDirectories("/sys/block", "loop*").Count();

    [GeneratedRegex(@"openat\(AT_FDCWD, ""/sys/block/loop\d+/loop/autoclear""")]
    private static partial Regex AutoclearRead();
}
