using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Inline ephemeral volumes, on both backings, with real mounts and loop devices, driven as kubelet drives them
/// (<see cref="InlineVolume"/>): kill -9 at any instant of a publish or an unpublish leaves a state kubelet's retry
/// finishes; a reboot keeps the data of pods still on the node; the sweep removes the volumes of pods gone for good.
/// The driver runs on a <see cref="NodeHarness"/>: every restart is in a fresh mount namespace, as a container's is.
/// </summary>
public sealed class EphemeralVolumeCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan SweepDeadline = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new("chp-eph");
    private DriverProcess _driver = null!;
    private bool _onNode;

    // kubelet's root dir: targets go under <root>/pods, the harness's pods dir.
    private string KubeletRoot => _root.Path;

    private string VolumesDir => Path.Combine(_driver.DataDir, "volumes");

    public Task InitializeAsync() => Task.CompletedTask;

    private async Task StartDriverAsync(bool onNode = true)
    {
        string[] flags = ["--ephemeral-sweep-interval", "1s"];
        _onNode = onNode;
        _driver = onNode ? await DriverProcess.StartOnNodeAsync(_root, flags) : await DriverProcess.StartAsync(_root, flags);
    }

    public async Task DisposeAsync()
    {
        if (_driver is not null)
            await _driver.DisposeAsync();
        _root.Dispose();
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("image")]
    public async Task KillNineDuringPublishAndUnpublish_KubeletRetries_FinishAndLeakNothing(string backing)
    {
        await StartDriverAsync();
        int seed = Scale.FuzzSeed;
        var random = new Random(seed);
        // The first, undisturbed publish and unpublish say how long each takes; the kills land anywhere within that,
        // and a call that finished before its kill resets the window to what it took.
        var (publishTime, unpublishTime) = await TimeOneLifecycleAsync(backing);
        int interruptedPublishes = 0, interruptedUnpublishes = 0;
        for (int round = 0; round < Scale.EphemeralKills; round++)
        {
            var pod = NewPod(backing);
            var publish = await KillDuringAsync(async () => await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish()), random.NextDouble() * publishTime);
            if (publish.Interrupted)
                interruptedPublishes++;
            else
                publishTime = publish.Took;

            await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
            Assert.Single(Mounts.Beneath(pod.TargetPath));
            await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "payload"), "round " + round);

            var unpublish = await KillDuringAsync(async () => await _driver.Client.Node.NodeUnpublishVolumeAsync(pod.Unpublish()), random.NextDouble() * unpublishTime);
            if (unpublish.Interrupted)
                interruptedUnpublishes++;
            else
                unpublishTime = unpublish.Took;

            await UnpublishAsKubeletAsync(pod);
            Assert.Empty(Mounts.Beneath(pod.TargetPath));
            Assert.False(Directory.Exists(Path.Combine(VolumesDir, pod.VolumeId)), $"round {round} (seed {seed}): the volume survived its unpublish");
        }

        Results.Report(output, "ephemeral-kill-" + backing,
            $"rounds={Scale.EphemeralKills} publish={publishTime.TotalMilliseconds:F0}ms unpublish={unpublishTime.TotalMilliseconds:F0}ms "
            + $"interrupted publishes={interruptedPublishes} unpublishes={interruptedUnpublishes} seed={seed}");
        AssertNothingLeft();
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("image")]
    public async Task NodeReboot_KubeletPublishesTheSameIdsAgain_DataServedAgain(string backing)
    {
        await StartDriverAsync();
        var pod = NewPod(backing);
        await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "payload"), "before the reboot");

        await RebootAsync();
        await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());

        Assert.Equal("before the reboot", await File.ReadAllTextAsync(Path.Combine(pod.TargetPath, "payload")));
        await UnpublishAsKubeletAsync(pod);
        AssertNothingLeft();
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("image")]
    public async Task SweepAtStartUp_PodGoneForGoodDuringAReboot_RemovedAndLoggedRestartedPodKeepsItsData(string backing)
    {
        await StartDriverAsync();
        var gone = NewPod(backing);
        var staying = NewPod(backing);
        foreach (var pod in new[] { gone, staying })
        {
            await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
            await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "payload"), pod.PodUid);
        }

        // The pod was deleted while the node was down: kubelet removes its directory and never unpublishes.
        await RebootAsync(beforeStart: gone.RemovePodDirectory);

        // The log line comes from the console logger's own thread, a moment after the removal.
        await PollUntilAsync(() => !Directory.Exists(Path.Combine(VolumesDir, gone.VolumeId))
            && _driver.Output.Contains($"Removed inline ephemeral volume {gone.VolumeId}", StringComparison.Ordinal), "the gone pod's volume to be swept");
        await _driver.Client.Node.NodePublishVolumeAsync(staying.Publish());
        Assert.Equal(staying.PodUid, await File.ReadAllTextAsync(Path.Combine(staying.TargetPath, "payload")));
        await UnpublishAsKubeletAsync(staying);
        AssertNothingLeft();
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("image")]
    public async Task PeriodicSweep_PodDirectoryRemovedWhileDriverRuns_VolumeRemovedOthersKept(string backing)
    {
        await StartDriverAsync();
        var gone = NewPod(backing);
        var running = NewPod(backing);
        await _driver.Client.Node.NodePublishVolumeAsync(gone.Publish());
        await _driver.Client.Node.NodePublishVolumeAsync(running.Publish());
        await File.WriteAllTextAsync(Path.Combine(running.TargetPath, "payload"), "kept");

        // kubelet lost track of the volume (its unpublish never came) and cleaned the pod up by itself.
        Mounts.DetachAllBeneath(gone.TargetPath);
        gone.RemovePodDirectory();

        // The log line comes from the console logger's own thread, a moment after the removal.
        await PollUntilAsync(() => !Directory.Exists(Path.Combine(VolumesDir, gone.VolumeId))
            && _driver.Output.Contains($"Removed inline ephemeral volume {gone.VolumeId}", StringComparison.Ordinal), "the periodic sweep to remove the volume");
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(running.TargetPath, "payload")));
        Assert.True(Mounts.IsMountPoint(running.TargetPath));
        await UnpublishAsKubeletAsync(running);
        AssertNothingLeft();
    }

    [Fact]
    public async Task Sweep_KubeletPodsDirNotVisible_RemovesNothingAndWarns()
    {
        // Outside the harness, whose pods dir is a mount point that cannot be moved aside.
        await StartDriverAsync(onNode: false);
        var pod = NewPod("directory");
        await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
        await File.WriteAllTextAsync(Path.Combine(pod.TargetPath, "payload"), "kept");
        string podsDir = Path.GetDirectoryName(pod.PodDirectory)!;

        // A driver whose kubelet pods dir is not mounted in sees no pod directory at all: every pod would look gone.
        await _driver.KillAsync();
        Mounts.DetachAllBeneath(pod.TargetPath);
        Directory.Move(podsDir, podsDir + "-aside");
        await _driver.StartAsync();
        await PollUntilAsync(() => _driver.Output.Contains($"kubelet's pods directory {podsDir} is not visible", StringComparison.Ordinal),
            "the sweep's warning");

        Assert.True(File.Exists(Path.Combine(VolumesDir, pod.VolumeId, "data", "payload")), "the sweep removed a volume whose pod it could not see");
        Directory.Move(podsDir + "-aside", podsDir);
        await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(pod.TargetPath, "payload")));
        await UnpublishAsKubeletAsync(pod);
        AssertNothingLeft();
    }

    private InlineVolume NewPod(string backing) =>
        InlineVolume.ForNewPod(KubeletRoot, new Dictionary<string, string> { ["size"] = "16Mi", ["backing"] = backing });

    private async Task<(TimeSpan Publish, TimeSpan Unpublish)> TimeOneLifecycleAsync(string backing)
    {
        var pod = NewPod(backing);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _driver.Client.Node.NodePublishVolumeAsync(pod.Publish());
        var publish = clock.Elapsed;
        clock.Restart();
        await _driver.Client.UnpublishOnceFreeAsync(pod.VolumeId, pod.TargetPath);
        return (publish, clock.Elapsed);
    }

    /// <summary>
    /// Starts the call, kills the driver after <paramref name="delay"/>, restarts it; whether the call lost its answer,
    /// and how long it took when it did not.
    /// </summary>
    private async Task<(bool Interrupted, TimeSpan Took)> KillDuringAsync(Func<Task> call, TimeSpan delay)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var running = Measure(call(), clock);
        await Task.WhenAny(running, Task.Delay(delay));
        await _driver.KillAsync();
        (bool, TimeSpan) result;
        try
        {
            result = (false, await running);
        }
        catch (Exception e) when (e is RpcException or IOException or HttpRequestException)
        {
            result = (true, TimeSpan.Zero);
        }
        await _driver.StartAsync();
        return result;
    }

    private static async Task<TimeSpan> Measure(Task call, System.Diagnostics.Stopwatch clock)
    {
        await call;
        return clock.Elapsed;
    }

    /// <summary>kubelet's TearDownAt is retried until it answers OK; a busy answer (ABORTED, FAILED_PRECONDITION) is retried too.</summary>
    private async Task UnpublishAsKubeletAsync(InlineVolume pod)
    {
        var deadline = DateTime.UtcNow + SweepDeadline;
        while (true)
        {
            try
            {
                await _driver.Client.Node.NodeUnpublishVolumeAsync(pod.Unpublish());
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Aborted or StatusCode.FailedPrecondition && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>What a reboot does to the node: the driver dies, every mount and loop device is gone; the disk and kubelet's pod dirs stay.</summary>
    private async Task RebootAsync(Action? beforeStart = null)
    {
        await _driver.KillAsync();
        foreach (var target in _driver.Node.TargetMounts().Reverse())
            Mounts.DetachAllBeneath(target);
        foreach (var device in _driver.Node.LoopDevices())
            LoopFileSystem.TryDetach(device);
        beforeStart?.Invoke();
        await _driver.StartAsync();
    }

    private async Task PollUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + SweepDeadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}:\n{_driver.Output}");
            await Task.Delay(50);
        }
    }

    private void AssertNothingLeft()
    {
        Assert.Empty(Directory.GetFileSystemEntries(VolumesDir));
        if (!_onNode)
        {
            Assert.Empty(Mounts.Beneath(_root.Path));
            Assert.Empty(LoopFileSystem.LoopDevicesBeneath(_root.Path));
            return;
        }
        Assert.Empty(_driver.Node.TargetMounts());
        Assert.Empty(_driver.Node.LoopDevices());
        // Image filesystems are mounted in the driver's own namespace, where only its mount table shows them.
        Assert.DoesNotContain(_driver.Node.ContainerDataDir + "/volumes/", File.ReadAllText($"/proc/{_driver.Pid}/mountinfo"), StringComparison.Ordinal);
    }
}
