#!/usr/bin/env bash
# Quickstart on kind: a 3-node cluster, the driver image built and loaded, the driver installed on every node,
# then the examples, the PVs' node affinity and the volumes' directories on their nodes.
# Needs docker, kind and kubectl. CLUSTER_NAME (default csi-hostpath) names the cluster; ./down.sh removes it.
# INSTALL=helm installs with deploy/helm/csi-hostpath (and needs helm) instead of `kubectl apply -k deploy/base`.
# SNAPSHOTS=1 also installs the snapshot CRDs and controller (external-snapshotter v8.6.0) and the driver with snapshots.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cluster=${CLUSTER_NAME:-csi-hostpath}
context=kind-$cluster
install=${INSTALL:-kustomize}
# The snapshot add-ons' release, the same as the csi-snapshotter sidecar's in deploy/overlays/snapshots.
snapshotter_ref=v8.6.0
# The DaemonSet names this image; both take the tag from the driver's version.
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/CsiHostPath/CsiHostPath.csproj")
image=csi-hostpath:$version

case $install in
  kustomize) tools="docker kind kubectl" ;;
  helm) tools="docker kind kubectl helm" ;;
  *) echo "up.sh: INSTALL must be kustomize or helm, not $install" >&2; exit 2 ;;
esac
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "up.sh needs $tool on PATH" >&2; exit 1; }
done

if kind get clusters | grep -qx "$cluster"; then
  echo "== cluster $cluster exists, reusing it"
else
  echo "== creating cluster $cluster"
  kind create cluster --name "$cluster" --config "$repo/deploy/kind/cluster.yaml" --wait 120s
fi

echo "== building $image"
docker build -t "$image" "$repo"
# kind nodes cannot pull a local image: copy it into every node's containerd.
kind load docker-image "$image" --name "$cluster"

snapshots=${SNAPSHOTS:-0}
if [ "$snapshots" = 1 ]; then
  echo "== installing the snapshot CRDs and controller (external-snapshotter $snapshotter_ref)"
  kubectl --context "$context" apply -k "https://github.com/kubernetes-csi/external-snapshotter/client/config/crd?ref=$snapshotter_ref"
  kubectl --context "$context" apply -k "https://github.com/kubernetes-csi/external-snapshotter/deploy/kubernetes/snapshot-controller?ref=$snapshotter_ref"
  # Each node's csi-snapshotter takes only the contents labelled with its node, which this makes the controller do.
  if ! kubectl --context "$context" -n kube-system get deployment snapshot-controller -o jsonpath='{.spec.template.spec.containers[0].args}' \
      | grep -q enable-distributed-snapshotting; then
    kubectl --context "$context" -n kube-system patch deployment snapshot-controller --type=json -p '[
      {"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--enable-distributed-snapshotting"},
      {"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--feature-gates=CSIVolumeGroupSnapshot=true"}]'
  fi
  kubectl --context "$context" -n kube-system rollout status deployment/snapshot-controller --timeout=180s
fi

echo "== installing the driver ($install)"
if [ "$install" = helm ]; then
  helm_snapshots=false
  [ "$snapshots" = 1 ] && helm_snapshots=true
  helm --kube-context "$context" upgrade --install csi-hostpath "$repo/deploy/helm/csi-hostpath" \
    --namespace csi-hostpath --create-namespace --set snapshots.enabled=$helm_snapshots
elif [ "$snapshots" = 1 ]; then
  kubectl --context "$context" apply -k "$repo/deploy/overlays/snapshots"
else
  kubectl --context "$context" apply -k "$repo/deploy/base"
fi
kubectl --context "$context" -n csi-hostpath rollout status daemonset/csi-hostpath-node --timeout=180s
kubectl --context "$context" get csinodes -o custom-columns=NODE:.metadata.name,DRIVERS:.spec.drivers[*].name

echo "== running the examples"
kubectl --context "$context" apply -k "$repo/deploy/examples"
for policy in delete retain; do
  kubectl --context "$context" wait --for=condition=Ready "pod/hostpath-$policy" --timeout=180s
done

for policy in delete retain; do
  pv=$(kubectl --context "$context" get pvc "hostpath-$policy" -o jsonpath='{.spec.volumeName}')
  # The volume lives where the PV's node affinity says, whatever node the pod runs on now.
  node=$(kubectl --context "$context" get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')
  handle=$(kubectl --context "$context" get pv "$pv" -o jsonpath='{.spec.csi.volumeHandle}')
  echo
  echo "== PVC hostpath-$policy: PV $pv on node $node"
  echo "-- what the pod wrote and read back:"
  kubectl --context "$context" logs "hostpath-$policy"
  echo "-- the PV's node affinity:"
  kubectl --context "$context" get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required}{"\n"}'
  echo "-- the volume on the node (a kind node is a docker container named after it):"
  docker exec "$node" ls -la "/var/lib/csi-hostpath/volumes/$handle/data"
  docker exec "$node" cat "/var/lib/csi-hostpath/volumes/$handle/data/hello.txt"
done

if [ "$snapshots" = 1 ]; then
  echo
  echo "== snapshot, restore and clone"
  kubectl --context "$context" apply -k "$repo/deploy/examples/snapshots"
  kubectl --context "$context" wait --for=condition=Ready pod/hostpath-source --timeout=180s
  kubectl --context "$context" wait --for=jsonpath='{.status.readyToUse}'=true volumesnapshot/hostpath-source-snapshot --timeout=180s
  for pod in hostpath-restore hostpath-clone; do
    kubectl --context "$context" wait --for=condition=Ready "pod/$pod" --timeout=180s
    echo "-- $pod reads:"
    kubectl --context "$context" logs "$pod"
  done
fi

echo
echo "Done. kubectl --context $context delete -k deploy/examples removes the examples (see README.md for what"
echo "Delete and Retain leave behind); deploy/kind/down.sh removes the cluster."
