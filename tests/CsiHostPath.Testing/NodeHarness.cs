using System.Diagnostics;

namespace CsiHostPath.Testing;

/// <summary>
/// A node as the DaemonSet lays it out (deploy/base/daemonset.yaml), in a <see cref="TempRoot"/>: the driver runs in a
/// mount namespace of its own, like its container, and every start gets a fresh one, as a container restart does.
/// <list type="bullet">
/// <item>The data dir is a filesystem of its own on the host side (<see cref="DataDir"/>), bind-mounted into the
/// namespace at another path (<see cref="ContainerDataDir"/>, like /var/lib/csi-hostpath in the container), without
/// propagation: image mounts the driver makes there die with its namespace, and the kernel names a loop device's
/// backing file by the path the driver opened it through, which after a restart no longer exists.</item>
/// <item>The pods dir (<see cref="PodsDir"/>) is shared with the namespace, as kubelet's pods dir is with
/// <c>mountPropagation: Bidirectional</c>: what the driver mounts at a target appears in the test's namespace and
/// outlives the driver, and the driver sees at start-up what earlier drivers left mounted there.</item>
/// <item>kill -9 kills every process in the namespace, as a container runtime stops a container.</item>
/// </list>
/// </summary>
public sealed class NodeHarness : IDisposable
{
    /// <summary>
    /// Run by sh inside the new namespace (unshare --propagation unchanged keeps the pods dir a peer of the test's):
    /// every other shared mount becomes a slave, as a container's rootfs does, so nothing else the driver mounts
    /// reaches the test; then the container's data dir path is made on a tmpfs only this namespace sees. With a private
    /// /dev, /dev becomes a tmpfs holding only the nodes a container runtime gives a container (runc's default
    /// devices, and loop-control): no node of a loop device attached before this start.
    /// </summary>
    private const string EnterContainer = """
        set -e
        IFS='
        '
        for m in $CHP_NODE_SHARED_MOUNTS; do mount --make-slave "$m" 2>/dev/null || true; done
        mount -t tmpfs -o size=1m,mode=0755 csi-hostpath-container "$CHP_NODE_CONTAINER_ROOT"
        mkdir -p "$CHP_NODE_CONTAINER_DATA"
        mount --bind "$CHP_NODE_HOST_DATA" "$CHP_NODE_CONTAINER_DATA"
        if [ -n "$CHP_NODE_DATA_LINK" ]; then ln -s var/lib "$CHP_NODE_DATA_LINK"; fi
        if [ -n "$CHP_NODE_PRIVATE_DEV" ]; then
          mount -t tmpfs -o size=64k,mode=0755 csi-hostpath-dev /dev
          mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
          mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
          mknod -m 600 /dev/loop-control c 10 237
          ln -s /proc/self/fd /dev/fd
        fi
        exec "$@"
        """;

    private readonly LoopFileSystem _dataFileSystem;
    private readonly string _containerRoot;
    private readonly string? _dataDirLink;
    private readonly bool _privateDev;

    private NodeHarness(TempRoot root, LoopFileSystem dataFileSystem, bool dataDirThroughSymlink, bool privateDev)
    {
        _privateDev = privateDev;
        _dataFileSystem = dataFileSystem;
        _containerRoot = root.Combine("container");
        PodsDir = root.Combine("pods");
        ContainerDataDir = Path.Combine(_containerRoot, "var", "lib", "csi-hostpath");
        _dataDirLink = dataDirThroughSymlink ? Path.Combine(_containerRoot, "lib-link") : null;
    }

    /// <summary>The data dir as the host sees it: where a test looks at what the driver left.</summary>
    public string DataDir => _dataFileSystem.MountPoint;

    /// <summary>The data dir as the driver sees it, and is told with --data-dir.</summary>
    public string ContainerDataDir { get; }

    /// <summary>
    /// What the driver is given with --data-dir: <see cref="ContainerDataDir"/>, or with a data dir through a symlink,
    /// the same directory named through a symlink to its parent (made in every fresh namespace), as on distributions
    /// whose /var/lib is a link.
    /// </summary>
    public string DataDirArgument => _dataDirLink is null ? ContainerDataDir : Path.Combine(_dataDirLink, "csi-hostpath");

    /// <summary>Where kubelet's target paths live, the same path on both sides.</summary>
    public string PodsDir { get; }

    /// <summary>The data dir's size unless a test asks for another: a sparse file, so only what is written takes space.</summary>
    public const long DefaultDataDirBytes = 8L << 30;

    /// <summary>
    /// Lays out the node: a <paramref name="dataDirBytes"/> sparse data dir of <paramref name="dataDirFsType"/> and a
    /// shared pods dir; with <paramref name="privateDev"/>, every start of the driver gets a fresh /dev of its own, as a
    /// container does.
    /// </summary>
    public static NodeHarness Create(
        TempRoot root, long dataDirBytes = DefaultDataDirBytes, bool dataDirThroughSymlink = false, bool privateDev = false, string dataDirFsType = "ext4")
    {
        var data = LoopFileSystem.Create(root, "data", dataDirBytes, dataDirFsType);
        var harness = new NodeHarness(root, data, dataDirThroughSymlink, privateDev);
        Directory.CreateDirectory(harness.PodsDir);
        Directory.CreateDirectory(harness._containerRoot);
        LoopFileSystem.Run("mount", "--bind", harness.PodsDir, harness.PodsDir);
        LoopFileSystem.Run("mount", "--make-shared", harness.PodsDir);
        return harness;
    }

    /// <summary>How to start <paramref name="executable"/> in a fresh namespace laid out as the container's.</summary>
    public ProcessStartInfo Launch(string executable)
    {
        var start = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--mount", "--propagation", "unchanged", "--", "sh", "-c", EnterContainer, "sh", executable])
            start.ArgumentList.Add(arg);
        string pods = PodsDir.TrimEnd('/');
        start.Environment["CHP_NODE_SHARED_MOUNTS"] = string.Join('\n',
            Mounts.Shared().Where(m => m != pods && !m.StartsWith(pods + "/", StringComparison.Ordinal)));
        start.Environment["CHP_NODE_CONTAINER_ROOT"] = _containerRoot;
        start.Environment["CHP_NODE_CONTAINER_DATA"] = ContainerDataDir;
        start.Environment["CHP_NODE_HOST_DATA"] = DataDir;
        start.Environment["CHP_NODE_DATA_LINK"] = _dataDirLink ?? "";
        start.Environment["CHP_NODE_PRIVATE_DEV"] = _privateDev ? "1" : "";
        return start;
    }

    /// <summary>
    /// SIGKILL to <paramref name="pid"/> and every process in its mount namespace (mkfs children too), as a container
    /// runtime kills a container; returns once none is left, so the namespace and its mounts are gone.
    /// </summary>
    public static void KillNamespaceOf(int pid)
    {
        string? ns = MountNamespace(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (ns is null)
            return;
        if (ns == MountNamespace("self"))
            throw new InvalidOperationException($"process {pid} shares the test's mount namespace; refusing to kill the namespace");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var members = Directory.EnumerateDirectories("/proc")
                .Select(dir => Path.GetFileName(dir))
                .Where(name => name.All(char.IsAsciiDigit) && MountNamespace(name) == ns)
                .ToList();
            if (members.Count == 0)
                return;
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"processes {string.Join(',', members)} of {ns} did not die");
            foreach (var member in members)
                _ = Interop.Kill(int.Parse(member, System.Globalization.CultureInfo.InvariantCulture), 9);
            Thread.Sleep(5);
        }
    }

    /// <summary>Where the driver sees <paramref name="hostPath"/>, a path in the host's data dir.</summary>
    public string ContainerPath(string hostPath) =>
        hostPath == DataDir || hostPath.StartsWith(DataDir + "/", StringComparison.Ordinal)
            ? ContainerDataDir + hostPath[DataDir.Length..]
            : hostPath;

    /// <summary>A power cut under the node: its data dir's filesystem stops where its on-disk log stops (xfs only).</summary>
    public void CutPower() => _dataFileSystem.CutPower();

    /// <summary>
    /// The machine goes down and up again, the driver already dead (its namespace gone): every target mount and loop
    /// device of the node goes; after <see cref="CutPower"/>, the data dir comes back as what reached its disk.
    /// </summary>
    public void Reboot(bool afterPowerCut = false)
    {
        foreach (var mount in TargetMounts().Reverse())
            Mounts.Detach(mount);
        foreach (var device in LoopDevices())
            LoopFileSystem.TryDetach(device);
        if (afterPowerCut)
            _dataFileSystem.MountAgainFromDisk();
    }

    /// <summary>Mounts the driver made at targets that are still there, as the test sees them.</summary>
    public IReadOnlyList<string> TargetMounts() => Mounts.Beneath(PodsDir).Where(m => m != PodsDir).ToList();

    /// <summary>Loop devices whose backing file is on the data dir's filesystem, whatever path the kernel shows for it.</summary>
    public IReadOnlyList<string> LoopDevices() => LoopFileSystem.LoopDevicesOn(DataDir);

    /// <summary>Unmounts the targets, detaches the data dir's loop devices and unmounts it; the driver must be dead.</summary>
    public void Dispose()
    {
        Mounts.DetachAllBeneath(PodsDir);
        foreach (var device in LoopDevices())
            LoopFileSystem.TryDetach(device);
        _dataFileSystem.Dispose();
    }

    private static string? MountNamespace(string pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
