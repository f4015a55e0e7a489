#!/usr/bin/env bash
# Builds ringd and runs every test: unit, simulation, integration (real agents
# on loopback) and end to end (real nginx). The README's second command; CI
# runs exactly this.
#
#   deploy/test.sh [extra ctest args, e.g. -L unit]    # as root (or with sudo)
#
# Root is for installing the missing packages (deploy/install-deps.sh). As
# another user it runs itself again through sudo when sudo is installed; without sudo it
# says so in one line and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    printf 'test.sh: not root: running again through sudo\n' >&2
    exec sudo -- "$PWD/deploy/test.sh" "$@"
  fi
  printf 'test.sh: must run as root (or with sudo, which is not installed): log in as root and run %s again\n' "$0" >&2
  exit 1
fi

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 600 "$@"
