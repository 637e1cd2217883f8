using System.Diagnostics;
using Csi.V1;
using CsiHostPath.ReliabilityTests.Infrastructure;
using CsiHostPath.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// Issue 13: CreateSnapshot copies a tree a pod filled, with the same hostile trees as <see cref="HostileTenantTests"/>,
/// on the node harness (the driver in a mount namespace of its own, its data dir a loop filesystem of the test's own).
/// The copy must stay inside the volume whatever the tree: the canary beside the data dir is neither read (its access
/// times), written nor added to, the neighbour volume is unchanged, and a symlink is copied as a symlink. The driver's
/// descriptors and memory stay bounded, whatever the width or depth, and a long copy logs its progress.
/// </summary>
public sealed class HostileCopyTests(HostileCopyTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<HostileCopyTests.Fixture>
{
    private const long MiB = 1 << 20;

    /// <summary>
    /// How much the driver's resident memory may grow over what it held before the copy: the copy keeps one listing
    /// buffer, one record per level of depth and one entry per multiply-linked file, so neither a million files nor
    /// 10,000 levels may cost more than this. Measured: see docs/performance.md's Snapshots section.
    /// </summary>
    private const long MaxRssGrowth = 64 * MiB;

    /// <summary>Descriptors a copy may hold beyond the driver's own: the source cursor, the target directory and root, a file pair, the staging dir.</summary>
    private const int MaxExtraDescriptors = 6;

    [Fact]
    public async Task CreateSnapshot_WideTree_CopiesEveryEntryAsItIs_WithBoundedDescriptorsMemoryAndProgress()
    {
        fixture.Canary.AgeAccessTimes();

        var (snapshot, usage) = await SnapshotMeasuredAsync(fixture.WideVolumeId, "wide");

        string copy = fixture.SnapshotData(snapshot.SnapshotId);
        Assert.Equal("", fixture.WideTree.Diff(TreeSnapshot.Take(copy)));
        Assert.Contains("100000 entries copied so far", fixture.Driver.Output);
        AssertOutsideUntouched();
        usage.AssertBounded();
        Results.Report(output, "hostile-copy", $"tree=wide entries={fixture.WideTree.Count} {usage}");
        await DeleteSnapshotAsync(snapshot.SnapshotId);
    }

    [Fact]
    public async Task CreateSnapshot_10000DeepChain_CopiesItWholeWithTheLinkAtTheBottomAsALink_WithBoundedDescriptorsAndMemory()
    {
        string volumeId = await fixture.CreateAsync("deep-copy");
        int entries = HostileTrees.Build("deep", fixture.DataPath(volumeId), fixture.Canary.Path, fixture.NeighbourData);
        fixture.Canary.AgeAccessTimes();

        var (snapshot, usage) = await SnapshotMeasuredAsync(volumeId, "deep");

        var (depth, files, bottomLink) = Chain(fixture.SnapshotData(snapshot.SnapshotId));
        Assert.Equal(Scale.HostileDepth, depth);
        Assert.Equal(Scale.HostileDepth / 1000, files);
        Assert.Equal(fixture.Canary.Path, bottomLink);
        AssertOutsideUntouched();
        usage.AssertBounded();
        Results.Report(output, "hostile-copy", $"tree=deep entries={entries} {usage}");
        await DeleteSnapshotAsync(snapshot.SnapshotId);
        await fixture.DeleteAsync(volumeId);
    }

    /// <summary>
    /// A tenant process holding a directory of its volume swaps "victim" for a symlink to the canary and back, and
    /// moves "victim/sub" up and down a level, while CreateSnapshot copies the volume: it watches the data dir's
    /// .staging, so its swaps land once the driver's copy has begun. Each copy completes, or fails as a retryable
    /// ABORTED when the tree moved under it; either way nothing outside the volume is read or written, the copy holds
    /// the canary's links as links and never its content, and a failed copy leaves nothing behind.
    /// </summary>
    [Fact]
    public async Task CreateSnapshot_SymlinkSwapRacingTheCopy_NeverReadsNorCopiesTheCanary()
    {
        int tries = Scale.CopyRaceTries, landedTries = 0, completed = 0;
        long landed = 0;
        fixture.Canary.AgeAccessTimes();
        for (int i = 0; i < tries; i++)
        {
            string volumeId = await fixture.CreateAsync($"copy-race-{i}");
            string data = fixture.DataPath(volumeId);
            Directory.CreateDirectory(Path.Combine(data, "victim", "sub"));
            File.WriteAllText(Path.Combine(data, "victim", "sub", "f"), "x");
            HostileTrees.Build("many-files", Path.Combine(data, "victim", "sub"), fixture.Canary.Path, fixture.NeighbourData, files: 1_000);
            Snapshot? snapshot = null;
            RpcException? failure = null;
            using (var swapper = new SymlinkSwapper(data, fixture.Canary.Path, racing: _ => Copying()))
            {
                swapper.WaitForFirstSwap();
                try
                {
                    snapshot = (await fixture.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = $"race-{i}", SourceVolumeId = volumeId })).Snapshot;
                    completed++;
                }
                catch (RpcException e)
                {
                    failure = e;
                }
                swapper.Stop();
                landed += swapper.Landed;
                landedTries += swapper.Landed > 0 ? 1 : 0;
            }
            if (failure is not null)
            {
                Assert.True(failure.StatusCode == StatusCode.Aborted, $"try {i}: {failure.Status}");
                Assert.Empty(Directory.EnumerateFileSystemEntries(Staging));
                Assert.Empty((await fixture.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = volumeId })).Entries);
            }
            else
            {
                AssertHoldsNoCanaryContent(fixture.SnapshotData(snapshot!.SnapshotId));
                await DeleteSnapshotAsync(snapshot.SnapshotId);
            }
            await fixture.DeleteAsync(volumeId);
        }
        AssertOutsideUntouched();
        Results.Report(output, "copy-symlink-swap-race", $"tries={tries} completed={completed} landed_tries={landedTries} landed_swaps={landed} canary_read=0 canary_changed=0");
        Assert.True(landedTries * 2 >= tries, $"only {landedTries} of {tries} tries swapped while the driver was copying the volume");
    }

    /// <summary>
    /// CreateSnapshot of the wide tree with a deadline that passes mid-copy (external-snapshotter sets one on every
    /// call): the driver is held (strace) at the copy's first mkdirat until the client has seen DEADLINE_EXCEEDED, then
    /// let go. It stops copying at once: the call ends CANCELLED in its log with its partial copy already gone from
    /// .staging, and nothing grows there or burns CPU afterwards; nothing is listed and no space or inode stays taken.
    /// A retry without a deadline then succeeds.
    /// </summary>
    [Fact]
    public async Task CreateSnapshot_DeadlinePassesMidCopy_StopsAndLeavesNothing_ThenARetrySucceeds()
    {
        var before = FileSystemFree.Of(fixture.Driver.DataDir);
        var request = new CreateSnapshotRequest { Name = "deadline", SourceVolumeId = fixture.WideVolumeId };

        var error = await CallPastItsDeadlineAsync(request, "ftruncate", TimeSpan.FromSeconds(10), armOnceCopying: true);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Staging));
        long cpu = DriverCpuTicks();
        var window = Stopwatch.StartNew();
        while (window.Elapsed < TimeSpan.FromSeconds(1))
        {
            Assert.Empty(Directory.EnumerateFileSystemEntries(Staging));
            Thread.Sleep(50);
        }
        // Clock ticks are 10 ms: a copy still running would take most of the second.
        Assert.InRange(DriverCpuTicks() - cpu, 0, 30);
        Assert.Empty((await fixture.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = fixture.WideVolumeId })).Entries);
        var after = FileSystemFree.Of(fixture.Driver.DataDir);
        Assert.InRange(before.Bytes - after.Bytes, -MiB, MiB);
        Assert.InRange(before.Inodes - after.Inodes, -16, 16);

        var snapshot = (await fixture.Client.Controller.CreateSnapshotAsync(request)).Snapshot;

        Assert.True(snapshot.ReadyToUse);
        // The tree is compared entry by entry in the wide test; here, that the retry copied all of it.
        Assert.Equal(fixture.WideTree.Count - 1, Walk(fixture.SnapshotData(snapshot.SnapshotId)).Count());
        await DeleteSnapshotAsync(snapshot.SnapshotId);
    }

    /// <summary>
    /// The same deadline on an image volume whose filesystem a pod has mounted: the driver is held at its first
    /// copy_file_range, with the filesystem frozen, until the client has seen DEADLINE_EXCEEDED; let go, it stops
    /// copying, thaws the filesystem (FITHAW from the test finds it not frozen) and leaves nothing; a retry succeeds.
    /// </summary>
    [Fact]
    public async Task CreateSnapshot_ImageVolume_DeadlinePassesWhileFrozen_ThawsAndLeavesNothing_ThenARetrySucceeds()
    {
        var volume = (await fixture.Client.Controller.CreateVolumeAsync(
            Requests.Create("image-deadline", 512 * MiB, new Dictionary<string, string> { ["backing"] = "image" }))).Volume;
        string target = fixture.Target("image-deadline");
        await fixture.PublishAsync(volume.VolumeId, target);
        WriteNoise(Path.Combine(target, "noise"), 384 * MiB);
        var before = FileSystemFree.Of(fixture.Driver.DataDir);
        var request = new CreateSnapshotRequest { Name = "image-deadline", SourceVolumeId = volume.VolumeId };

        var error = await CallPastItsDeadlineAsync(request, "copy_file_range", TimeSpan.FromSeconds(5), armOnceCopying: false);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.False(Native.Thaw(target), "the volume's filesystem was still frozen after the call ended");
        File.WriteAllText(Path.Combine(target, "after"), "written once thawed");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Staging));
        Assert.Empty((await fixture.Client.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = volume.VolumeId })).Entries);
        Assert.InRange(before.Bytes - FileSystemFree.Of(fixture.Driver.DataDir).Bytes, -MiB, MiB);

        var snapshot = (await fixture.Client.Controller.CreateSnapshotAsync(request)).Snapshot;

        Assert.True(snapshot.ReadyToUse);
        Assert.False(Native.Thaw(target), "the volume's filesystem was left frozen after the retried snapshot");
        await DeleteSnapshotAsync(snapshot.SnapshotId);
        await fixture.UnpublishAsync(volume.VolumeId, target);
        await fixture.Client.DeleteVolumeOnceFreeAsync(volume.VolumeId);
    }

    private string Staging => Path.Combine(fixture.Driver.DataDir, ".staging");

    /// <summary>Whether a copy is writing into .staging: an item directory there with something in it (the driver's reflink probe is a file).</summary>
    private bool Copying()
    {
        foreach (var item in Directory.EnumerateDirectories(Staging))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(item).Any())
                    return true;
            }
            catch (DirectoryNotFoundException)
            {
                // Committed or removed since it was listed.
            }
        }
        return false;
    }

    /// <summary>
    /// CreateSnapshot with <paramref name="deadline"/>, the driver held at its first <paramref name="syscall"/> until the
    /// client has given up, then let go; returns once the driver has logged the end of the call.
    /// </summary>
    private async Task<RpcException> CallPastItsDeadlineAsync(CreateSnapshotRequest request, string syscall, TimeSpan deadline, bool armOnceCopying)
    {
        RpcException error;
        var fault = armOnceCopying ? null : Infrastructure.SyscallFault.StopAt(fixture.Driver.Pid, syscall, 1);
        var call = fixture.Client.Controller.CreateSnapshotAsync(request, deadline: DateTime.UtcNow + deadline).ResponseAsync;
        // A tree's copy is held once it is writing into .staging: strace slows every system call it sees, and the walk
        // that measures the tree first makes many. An image's copy starts at once and is held from the start.
        var begun = Stopwatch.StartNew();
        while (armOnceCopying && !Copying())
        {
            Assert.False(call.IsCompleted, "the call ended before its copy began");
            Assert.True(begun.Elapsed < deadline, "the copy did not begin within the deadline");
            await Task.Delay(5);
        }
        using (fault ??= Infrastructure.SyscallFault.StopAt(fixture.Driver.Pid, syscall, 1))
        {
            fault.WaitUntilStopped();
            error = await Assert.ThrowsAsync<RpcException>(() => call);
            Native.Kill(fixture.Driver.Pid, Native.SIGCONT);
        }
        string ended = $"CreateSnapshot volume={request.SourceVolumeId} status=Cancelled";
        var clock = Stopwatch.StartNew();
        while (!fixture.Driver.Output.Contains(ended, StringComparison.Ordinal))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"the driver never logged \"{ended}\":\n{fixture.Driver.Output[^Math.Min(4000, fixture.Driver.Output.Length)..]}");
            await Task.Delay(10);
        }
        Results.Report(output, "copy-deadline", $"volume={request.SourceVolumeId} held_at={syscall} deadline_ms={deadline.TotalMilliseconds:F0} cancelled_logged_after_release_ms={clock.ElapsedMilliseconds}");
        return error;
    }

    /// <summary>Takes a snapshot, sampling the driver's descriptors all through the call and its peak resident memory.</summary>
    private async Task<(Snapshot Snapshot, CopyUsage Usage)> SnapshotMeasuredAsync(string volumeId, string name)
    {
        int pid = fixture.Driver.Pid;
        var usage = CopyUsage.Start(pid);
        var clock = Stopwatch.StartNew();
        var call = fixture.Client.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = name, SourceVolumeId = volumeId }).ResponseAsync;
        while (!call.IsCompleted)
        {
            usage.Sample();
            await Task.WhenAny(call, Task.Delay(5));
        }
        var snapshot = (await call).Snapshot;
        usage.Finish(clock.Elapsed);
        return (snapshot, usage);
    }

    private void AssertOutsideUntouched()
    {
        fixture.Canary.AssertNotAccessed();
        fixture.Canary.AssertUntouched();
        fixture.AssertNeighbourUntouched();
    }

    private async Task DeleteSnapshotAsync(string snapshotId) =>
        await fixture.Client.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshotId });

    /// <summary>No file of the copy has any canary file's content: a link to the canary was copied as a link, never followed.</summary>
    private void AssertHoldsNoCanaryContent(string copy)
    {
        var canaryContents = fixture.CanaryContents;
        foreach (var entry in Walk(copy))
        {
            if (entry.LinkTarget is { } linkTarget)
                Assert.True(entry.Name != "canary" || linkTarget == fixture.Canary.Path, $"{entry.FullName} -> {linkTarget}");
            else if (entry is FileInfo { Length: > 1 } file)
                Assert.DoesNotContain(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file.FullName))), canaryContents);
        }
    }

    /// <summary>Every entry beneath <paramref name="root"/>, walked by hand, never through a symlink (a copy holds links to the canary, which must not be read here either).</summary>
    private static IEnumerable<FileSystemInfo> Walk(string root)
    {
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (pending.TryPop(out var dir))
        {
            foreach (var entry in dir.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (entry is DirectoryInfo subdirectory && entry.LinkTarget is null)
                    pending.Push(subdirectory);
                yield return entry;
            }
        }
    }

    /// <summary>Walks a chain of "d" directories by descriptor (deeper than a path can name): its depth, the files on the way, and the link at the bottom.</summary>
    private static (int Depth, int Files, string? BottomLink) Chain(string root)
    {
        int fd = Native.OpenDirectory(root), depth = 0, files = 0;
        var d = Native.Z("d");
        try
        {
            while (true)
            {
                files += Directory.EnumerateFiles($"/proc/self/fd/{fd}", "file-*").Count();
                int next = Native.OpenAt(fd, d, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_NOFOLLOW);
                if (next < 0)
                    return (depth, files, new FileInfo($"/proc/self/fd/{fd}/canary").LinkTarget);
                Native.Close(fd);
                fd = next;
                depth++;
            }
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static void WriteNoise(string path, long bytes)
    {
        var noise = new byte[MiB];
        Random.Shared.NextBytes(noise);
        using var file = new FileStream(path, FileMode.CreateNew);
        for (long written = 0; written < bytes; written += MiB)
            file.Write(noise);
        file.Flush(flushToDisk: true);
    }

    private long DriverCpuTicks()
    {
        // utime and stime, the 14th and 15th fields of /proc/<pid>/stat, after the command name in parentheses.
        var fields = File.ReadAllText($"/proc/{fixture.Driver.Pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }

    private readonly record struct FileSystemFree(long Bytes, long Inodes)
    {
        public static FileSystemFree Of(string path)
        {
            string[] free = LoopFileSystem.Run("stat", "-f", "-c", "%a %S %d", path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new FileSystemFree(long.Parse(free[0]) * long.Parse(free[1]), long.Parse(free[2]));
        }
    }

    /// <summary>The driver's descriptors, sampled through a copy, and its peak resident memory (VmHWM, reset at the start).</summary>
    private sealed class CopyUsage
    {
        private readonly int _pid;
        private int _samples;

        private CopyUsage(int pid)
        {
            _pid = pid;
            DescriptorsBefore = MostDescriptors = Descriptors();
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            RssBefore = Status("VmRSS");
        }

        public int DescriptorsBefore { get; }

        public int MostDescriptors { get; private set; }

        public long RssBefore { get; }

        public long PeakRss { get; private set; }

        public TimeSpan Elapsed { get; private set; }

        public static CopyUsage Start(int pid) => new(pid);

        public void Sample()
        {
            MostDescriptors = Math.Max(MostDescriptors, Descriptors());
            _samples++;
        }

        public void Finish(TimeSpan elapsed)
        {
            Elapsed = elapsed;
            PeakRss = Status("VmHWM");
        }

        public void AssertBounded()
        {
            Assert.True(_samples > 10, $"only {_samples} samples were taken during the copy");
            Assert.True(MostDescriptors - DescriptorsBefore <= MaxExtraDescriptors, $"the copy held more than {MaxExtraDescriptors} descriptors: {this}");
            Assert.True(PeakRss - RssBefore <= MaxRssGrowth, $"the driver's memory grew by more than {MaxRssGrowth / MiB} MiB: {this}");
        }

        public override string ToString() =>
            $"copy_ms={Elapsed.TotalMilliseconds:F0} fd_before={DescriptorsBefore} fd_most={MostDescriptors} samples={_samples} rss_before_mib={RssBefore / MiB} rss_peak_mib={PeakRss / MiB}";

        private int Descriptors() => Directory.GetFileSystemEntries($"/proc/{_pid}/fd").Length;

        private long Status(string field) =>
            long.Parse(File.ReadLines($"/proc/{_pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>
    /// The hostile-tenant fixture with a data dir big enough in inodes for the wide tree and its copy (a million files
    /// each with CHP_COPY_FILES=1000000), and the wide tree itself: <see cref="Scale.CopyFiles"/> empty files beside
    /// every kind of hostile symlink, built once for the class.
    /// </summary>
    public sealed class Fixture : HostileTenantTests.Fixture
    {
        public string WideVolumeId { get; private set; } = null!;

        public TreeSnapshot WideTree { get; private set; } = null!;

        // ext4 makes an inode per 16 KiB: room for the tree, its copies and the rest of the class's volumes.
        protected override long DataDirBytes => Math.Max(8L << 30, Scale.CopyFiles * 3L * 16 * 1024);

        /// <summary>The hashes of the canary's files, taken once before any copy (reading them later would spoil their access times).</summary>
        public HashSet<string> CanaryContents { get; private set; } = null!;

        public string SnapshotData(string snapshotId) => Path.Combine(Driver.DataDir, "snapshots", snapshotId, "data");

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            WideVolumeId = await CreateAsync("wide");
            string data = DataPath(WideVolumeId);
            HostileTrees.Build("symlinks", data, Canary.Path, NeighbourData);
            HostileTrees.Build("many-files", data, Canary.Path, NeighbourData, files: Scale.CopyFiles);
            WideTree = TreeSnapshot.Take(data);
            CanaryContents = Directory.EnumerateFiles(Canary.Path, "*", SearchOption.AllDirectories)
                .Where(f => new FileInfo(f).LinkTarget is null && new FileInfo(f).Length > 1)
                .Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))))
                .ToHashSet();
        }
    }
}
