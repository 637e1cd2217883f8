#!/usr/bin/env bash
# Mutation testing: Stryker.NET mutates src/CsiHostPath/Volumes and src/CsiHostPath/Os and runs the unit tests (the
# fast suite) against each mutant. docs/testing.md records the last score and the survivors we accept.
#
# It runs in a private mount namespace with a fresh tmpfs on /tmp: a mutant of a containment guard (TryAscend's
# identity check, RESOLVE_BENEATH, the mount check) really escapes, and a test run against it must find only
# scratch files to escape to, never another process's files under /tmp nor the work tree.
#
#   tests/mutation/run.sh                       # every file of Volumes/ and Os/
#   tests/mutation/run.sh 'Volumes/VolumeStore.cs' 'Os/MountInfoParser.cs'   # only these (paths under src/CsiHostPath)
# Needs root (unshare, mount). Installs dotnet-stryker 5.1.0 into ~/.cache/chp-stryker the first time.
set -euo pipefail
if [ "${CHP_MUTATION_SANDBOX:-}" != 1 ]; then
  exec unshare --mount --propagation private env CHP_MUTATION_SANDBOX=1 "$0" "$@"
fi
mount -t tmpfs -o size=4g,mode=1777 chp-mutation /tmp

repo=$(cd "$(dirname "$0")/../.." && pwd)
tool_dir=${CHP_STRYKER_DIR:-$HOME/.cache/chp-stryker}
[ -x "$tool_dir/dotnet-stryker" ] || dotnet tool install dotnet-stryker --version 5.1.0 --tool-path "$tool_dir"

mutate=()
if [ $# -eq 0 ]; then
  mutate=(--mutate '**/Volumes/**/*.cs' --mutate '**/Os/**/*.cs')
else
  for file in "$@"; do mutate+=(--mutate "**/$file"); done
fi

cd "$repo/tests/CsiHostPath.UnitTests"
"$tool_dir/dotnet-stryker" --project CsiHostPath.csproj "${mutate[@]}" \
  --concurrency "${CHP_STRYKER_CONCURRENCY:-2}" --skip-version-check \
  --reporter progress --reporter markdown --reporter json \
  --output "$repo/tests/mutation/StrykerOutput" --break-at 0
