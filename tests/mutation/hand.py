#!/usr/bin/env python3
"""Hand-made mutants of issue 18's table: each is an edit of src/CsiHostPath in a scratch copy (never the work tree),
built on its own, then the test that guards the behaviour runs against it (CSI_HOSTPATH_BIN) in a private mount
namespace with a fresh tmpfs on /tmp. A mutant is caught when that test fails. docs/testing.md has the last results.

    tests/mutation/hand.py                  # every mutant
    tests/mutation/hand.py m3 m6            # only these (a name or its prefix)

Needs root (unshare, mount) and the test projects built (dotnet build CsiHostPath.sln). Scratch: $CHP_HAND_DIR or
/var/tmp/chp-hand-mutants.
"""
import os, pathlib, shutil, subprocess, sys, time

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRATCH = pathlib.Path(os.environ.get("CHP_HAND_DIR", "/var/tmp/chp-hand-mutants"))
ALWAYS = "        if (Environment.ProcessId > 0) throw new RpcException(new Status(StatusCode.Internal, \"mutant\"));\n"
PUBLISH = "    public override Task<NodePublishVolumeResponse> NodePublishVolume(NodePublishVolumeRequest request, ServerCallContext context)\n    {\n"
CAPACITY = "    public override Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)\n    {\n"
RECORD_THEN_MOUNT = "        store.Update(published);\n        if (!mountedHere)\n            Mount(record, targetPath, access, readOnly);\n"
MOUNT_THEN_RECORD = "        if (!mountedHere)\n            Mount(record, targetPath, access, readOnly);\n        store.Update(published);\n"

# name: (edits as (file under src/CsiHostPath, old, new), the tests that guard it as (test project, filter))
MUTANTS = {
    "m1-publish-internal": ([("Grpc/NodeService.cs", PUBLISH, PUBLISH + ALWAYS)],
                            ("CsiHostPath.IntegrationTests", "FullyQualifiedName~CrashTests.KillDuringBursts"),
                            ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~CrashSoakTests")),
    "m2-no-fsync": ([("Os/AtomicFile.cs", "stream.Flush(flushToDisk: true);", "stream.Flush(flushToDisk: false);"),
                     ("Os/AtomicFile.cs", "        Libc.FSync(fd, directory);\n", "")],
                    ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~PowerLossTests")),
    "m2a-no-record-fsync": ([("Os/AtomicFile.cs", "stream.Flush(flushToDisk: true);", "stream.Flush(flushToDisk: false);")],
                            ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~PowerLossTests")),
    "m2b-no-dir-fsync": ([("Os/AtomicFile.cs", "        Libc.FSync(fd, directory);\n", "")],
                         ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~PowerLossTests")),
    "m3-no-resolve-no-symlinks": ([("Os/SafeDirectory.cs", "PathDirectory, Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS, out var fd",
                                    "PathDirectory, Libc.RESOLVE_BENEATH, out var fd")],
                                  ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~HostileTenantTests.NodePublishVolume_DataDirSwapped")),
    "m4-never-give-up": ([("Os/DirectoryTree.cs", "private const int MaxRaces = 100;", "private const int MaxRaces = int.MaxValue;"),
                          ("Os/DirectoryTree.cs", "RacingTimeLimit = TimeSpan.FromSeconds(5);", "RacingTimeLimit = TimeSpan.MaxValue;")],
                         ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~TenantNeverStops")),
    "m4b-no-growth-check": ([("Os/DirectoryTree.cs", "            if (size <= visit.Size && (ulong)visit.Removed * 2 <= visit.Size)\n                return;",
                              "            if (size >= 0)\n                return;")],
                            ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~TenantNeverStops")),
    "m5-capacity-internal": ([("Grpc/ControllerService.cs", CAPACITY, CAPACITY + ALWAYS)],
                             ("CsiHostPath.ReliabilityTests", "FullyQualifiedName~FuzzTests")),
    "m6-record-after-mount": ([("Volumes/VolumePublisher.cs", RECORD_THEN_MOUNT, MOUNT_THEN_RECORD)],
                              ("CsiHostPath.IntegrationTests", "FullyQualifiedName~CrashTests.KillRightAfterPublishMounts")),
}


def build(name, edits):
    work = SCRATCH / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for f in ("Directory.Build.props", "Directory.Packages.props"):
        shutil.copy(REPO / f, work / f)
    shutil.copytree(REPO / "proto", work / "proto")
    shutil.copytree(REPO / "src/CsiHostPath", work / "src/CsiHostPath", ignore=shutil.ignore_patterns("bin", "obj"))
    for f, old, new in edits:
        path = work / "src/CsiHostPath" / f
        text = path.read_text()
        if text.count(old) != 1:
            sys.exit(f"{name}: the code to mutate in {f} has changed; update {__file__}")
        path.write_text(text.replace(old, new))
    log = work / "build.log"
    with open(log, "w") as out:
        if subprocess.call(["dotnet", "build", str(work / "src/CsiHostPath"), "-o", str(work / "out"), "-warnaserror"], stdout=out, stderr=out):
            sys.exit(f"{name}: the mutant does not build, see {log}")
    return work / "out" / "csi-hostpath"


def run(name, binary, project, test_filter):
    """Runs the guarding tests against the mutant's driver; true when one of them failed."""
    inner = (f"mount -t tmpfs -o size=4g chp-mutant /tmp && CSI_HOSTPATH_BIN={binary} exec dotnet test tests/{project} "
             f"--no-build --filter '{test_filter}' --logger 'console;verbosity=normal'")
    log = SCRATCH / f"{name}.{project}.test.log"
    start = time.monotonic()
    with open(log, "w") as out:
        rc = subprocess.call(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner], cwd=REPO, stdout=out, stderr=out)
    failed = [l.strip() for l in log.read_text().splitlines() if l.strip().startswith("Failed ")]
    verdict = "CAUGHT" if rc != 0 and failed else ("SURVIVED" if rc == 0 else "ERROR (no test failed)")
    print(f"{name}: {verdict} in {time.monotonic() - start:.0f} s by {project} --filter '{test_filter}'; log {log}")
    for line in failed:
        print("   ", line)
    return verdict == "CAUGHT"


def main():
    chosen = [n for n in MUTANTS if not sys.argv[1:] or any(n.startswith(a) for a in sys.argv[1:])]
    caught = 0
    for name in chosen:
        edits, *guards = MUTANTS[name]
        binary = build(name, edits)
        caught += all([run(name, binary, project, test_filter) for project, test_filter in guards])
    print(f"{caught} of {len(chosen)} mutants caught by every test that guards them")


if __name__ == "__main__":
    main()
