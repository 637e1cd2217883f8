#!/usr/bin/env bash
# Quickstart on kind: a 3-node cluster, the driver image built and loaded, the driver installed on every node,
# then the examples, the PVs' node affinity and the volumes' directories on their nodes.
# Needs docker, kind and kubectl. CLUSTER_NAME (default csi-hostpath) names the cluster; ./down.sh removes it.
# INSTALL=helm installs with deploy/helm/csi-hostpath (and needs helm) instead of `kubectl apply -k deploy/base`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cluster=${CLUSTER_NAME:-csi-hostpath}
context=kind-$cluster
install=${INSTALL:-kustomize}
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

echo "== installing the driver ($install)"
if [ "$install" = helm ]; then
  helm --kube-context "$context" upgrade --install csi-hostpath "$repo/deploy/helm/csi-hostpath" \
    --namespace csi-hostpath --create-namespace
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

echo
echo "Done. kubectl --context $context delete -k deploy/examples removes the examples (see README.md for what"
echo "Delete and Retain leave behind); deploy/kind/down.sh removes the cluster."
