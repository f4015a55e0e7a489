#!/usr/bin/env bash
# Runs the benchmarks and writes bench/RESULTS.md from what they print.
#
#   bench/run.sh            # uses build/ (run deploy/test.sh or build first)
#
# Never edit RESULTS.md by hand: rerun this script.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=bench/RESULTS.md
[[ -x $BUILD/bench/ring_bench ]] || { echo "bench/run.sh: $BUILD/bench/ring_bench missing; build first" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$BUILD/bench/ring_bench" --benchmark_format=json --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true >"$tmp/ring.json" 2>"$tmp/ring.err"
/usr/bin/python3 bench/membership_bench.py --n 10 30 --trials 3 --idle-seconds 20 >"$tmp/cluster.md"

{
  echo "# Benchmark results"
  echo
  echo "Written by \`bench/run.sh\` on $(date -u +%Y-%m-%d) — do not edit by hand."
  echo
  echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "## Ring lookup and build (\`$BUILD/bench/ring_bench\`, median of 3)"
  echo
  /usr/bin/python3 - "$tmp/ring.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print("| benchmark | time per op (CPU) |")
print("|---|---|")
for b in doc["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    unit = b["time_unit"]
    print(f"| {b['run_name']} | {b['cpu_time']:.1f} {unit} |")
PY
  echo
  echo "## Membership (\`/usr/bin/python3 bench/membership_bench.py --n 10 30 --trials 3 --idle-seconds 20\`)"
  echo
  cat "$tmp/cluster.md"
} >"$OUT"
echo "wrote $OUT"
