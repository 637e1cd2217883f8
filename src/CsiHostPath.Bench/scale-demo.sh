#!/bin/bash
# Issue 15's demonstration: per-call p50/p99 of CreateVolume, ControllerGetVolume, GetCapacity and NodeGetVolumeStats
# (a directory and an image volume) on a node holding FEW volumes and on one holding MANY, IMAGES of them image-backed
# (loop devices with ext4), and the driver's start-up over each data dir.
#
#   sudo src/CsiHostPath.Bench/scale-demo.sh <driver exe> <bench exe> <scratch dir> [FEW MANY IMAGES_FEW IMAGES_MANY COUNT]
#
# Everything runs in a private mount namespace, so the image volumes' mounts never show in the host's mount table;
# the loop devices are global, and the ones backed by the scratch dir's images are detached at the end.
set -euo pipefail
driver=$1 bench=$2 scratch=$3
few=${4:-50} many=${5:-5000} images_few=${6:-10} images_many=${7:-1000} count=${8:-400}
mkdir -p "$scratch"
scratch=$(realpath "$scratch")

export driver bench scratch count
unshare --mount --propagation private bash -euo pipefail -c '
measure() {
    local volumes=$1 images=$2 dir=$scratch/$1
    rm -rf "$dir"; mkdir -p "$dir/pods"
    "$driver" --endpoint "$dir/csi.sock" --node-id n1 --data-dir "$dir/data" > "$dir/driver.log" 2>&1 &
    local pid=$!
    echo "== $volumes volumes, $images image-backed; load $(cut -d" " -f1-3 /proc/loadavg)"
    "$bench" --endpoint "$dir/csi.sock" --work-dir "$dir/pods" --mode scale --prefill "$volumes" --prefill-images "$images" \
        -c 4 -n "$count" --pid "$pid"
    kill "$pid"; wait "$pid" || true
    echo "-- start-up over the $volumes volumes; load $(cut -d" " -f1-3 /proc/loadavg)"
    "$bench" startup --driver "$driver" --socket "$dir/csi.sock" --runs 5 -- --endpoint "$dir/csi.sock" --node-id n1 --data-dir "$dir/data"
}
measure '"$few $images_few"'
measure '"$many $images_many"'
'
# The namespace is gone with its mounts; what is left of ours are the loop devices backed by the scratch dir.
losetup --list --noheadings --output NAME,BACK-FILE | awk -v dir="$scratch/" 'index($2, dir) == 1 { print $1 }' | xargs -r -n 1 losetup --detach
rm -rf "$scratch"
