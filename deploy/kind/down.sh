#!/usr/bin/env bash
# Removes the quickstart cluster, and with it every volume: they live inside the kind node containers.
set -euo pipefail

cluster=${CLUSTER_NAME:-csi-hostpath}
command -v kind >/dev/null || { echo "down.sh needs kind on PATH" >&2; exit 1; }
kind delete cluster --name "$cluster"
