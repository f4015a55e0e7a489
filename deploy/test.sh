#!/usr/bin/env bash
# Builds ringd and runs every test: unit, simulation, integration (real agents
# on loopback) and end to end (real nginx). The README's second command; CI
# runs exactly this.
#
#   sudo deploy/test.sh [extra ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 600 "$@"
