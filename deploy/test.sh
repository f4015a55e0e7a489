#!/usr/bin/env bash
# Build ringd and run every test through ctest (unit, sim, integration, e2e).
#
#   sudo deploy/test.sh [extra ctest args, e.g. -L e2e]
#
# For a fresh Debian 12 machine: installs missing Debian packages
# (deploy/install-deps.sh, skipped when not root), builds into build/, runs
# ctest there. Tests start their own processes on loopback ports they pick
# and stop them by PID, so nothing is left running. Exit code = ctest's.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$SRC"

if [[ $(id -u) -eq 0 ]]; then
  deploy/install-deps.sh
else
  echo "test.sh: not root, skipping deploy/install-deps.sh" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "==> cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j$jobs"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"

echo "==> ctest --test-dir build --output-on-failure -j$jobs $*"
# Tests marked RUN_SERIAL (integration, e2e) run alone, the rest in parallel.
exec ctest --test-dir build --output-on-failure -j"$jobs" "$@"
