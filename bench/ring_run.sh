#!/usr/bin/env bash
# Runs the ring benchmarks and prints a Markdown section to stdout (bench/run.sh
# puts it into bench/RESULTS.md; never paste numbers by hand).
#
#   bench/ring_run.sh            # uses build/; BUILD=build-x bench/ring_run.sh
#   QUICK=1 bench/ring_run.sh    # one repetition, fewer keys: a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
for bin in ring_bench ring_quality; do
  [[ -x $BUILD/bench/$bin ]] || { echo "bench/ring_run.sh: $BUILD/bench/$bin missing; build first" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

reps=3 quality_args=()
if [[ ${QUICK:-0} == 1 ]]; then reps=1 quality_args=(--quick); fi
"$BUILD/bench/ring_bench" --benchmark_format=json --benchmark_repetitions=$reps \
  --benchmark_report_aggregates_only=true >"$tmp/ring.json" 2>"$tmp/ring.err"
"$BUILD/bench/ring_quality" "${quality_args[@]}" >"$tmp/quality.md"

echo "## Ring: lookup, build, balance, movement (\`bench/ring_run.sh\`)"
echo
echo "\`$BUILD/bench/ring_bench --benchmark_repetitions=$reps\` (median, CPU time per operation; load average"\
     "at start $(cut -d' ' -f1-3 /proc/loadavg)) and \`$BUILD/bench/ring_quality ${quality_args[*]}\`."
echo
/usr/bin/python3 - "$tmp/ring.json" <<'PY'
import json, sys

doc = json.load(open(sys.argv[1]))
med = {}
for b in doc["benchmarks"]:
    if b.get("aggregate_name", "median") != "median" or b.get("run_type") == "aggregate" and b["aggregate_name"] != "median":
        continue
    med[b["run_name"]] = b

def ns(name):
    b = med.get(name)
    if not b:
        return None
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    return b["cpu_time"] * scale

def fmt(v, unit="ns", digits=1):
    return "—" if v is None else ("%.*f %s" % (digits, v, unit))

print("### Lookup, 40-byte URL keys, hashing included")
print()
print("| N | default ring (line table) | binary search, same points | speedup | multiprobe | Maglev | nginx mode | ketama mode |")
print("|---|---|---|---|---|---|---|---|")
for n in (10, 100, 1000, 5000, 10000):
    d, b, m = ns("BM_Lookup/%d" % n), ns("BM_LookupBinarySearch/%d" % n), ns("BM_LookupMaglev/%d" % n)
    g, k, p = ns("BM_LookupNginx/%d" % n), ns("BM_LookupKetama/%d" % n), ns("BM_LookupMultiProbe/%d" % n)
    speed = "%.1f×" % (b / d) if d and b else "—"
    print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (n, fmt(d), fmt(b), speed, fmt(p), fmt(m), fmt(g), fmt(k)))
print()
print("XXH3-64 of the key alone: %s. owners(key, 3): %s at N=10, %s at N=1000." % (
    fmt(ns("BM_HashKey")), fmt(ns("BM_Owners3/10")), fmt(ns("BM_Owners3/1000"))))
print()
d2, b2 = ns("BM_LookupManyKeys/1000"), ns("BM_LookupManyKeysBinarySearch/1000")
print("The table cycles through 4,096 keys; with 262,144 distinct keys (lookups rarely hit L1/L2) at N=1000:"
      " default ring %s, binary search %s (%s)." % (fmt(d2), fmt(b2), "%.1f×" % (b2 / d2) if d2 and b2 else "—"))
print()
print("### Build from scratch, and memory of the lookup structures")
print()
print("| N | default (1,024 points/node) | MB | join/leave from the current ring | 160 points/node | MB | Maglev | MB | multiprobe | MB | join/leave |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for n in (10, 100, 1000, 5000, 10000):
    row = [str(n)]
    for name in ("BM_Build/%d", "BM_Update/%d", "BM_Build160/%d", "BM_BuildMaglev/%d", "BM_BuildMultiProbe/%d",
                 "BM_UpdateMultiProbe/%d"):
        b = med.get(name % n)
        row.append(fmt(ns(name % n) / 1e6 if b else None, "ms", 2))
        if "Update" not in name:
            row.append("%.1f" % b["MB"] if b and "MB" in b else "—")
    print("| " + " | ".join(row) + " |")
print()
d, b = ns("BM_Lookup/1000"), ns("BM_LookupBinarySearch/1000")
build, update = ns("BM_Build/1000"), ns("BM_Update/1000")
print("Targets at N=1000: default lookup %s (target ≤ 25 ns): %s; %.1f× binary search (target ≥ 4×): %s;"
      " rebuild from scratch %s, join/leave from the current ring as the agent publishes it"
      " (`Ring::build_weighted_from`) %s (target ≤ 5 ms): %s." % (
          fmt(d), "met" if d and d <= 25 else "NOT met", b / d if d and b else 0,
          "met" if d and b and b / d >= 4 else "NOT met", fmt(build / 1e6 if build else None, "ms", 2),
          fmt(update / 1e6 if update else None, "ms", 2),
          "met" if build and build <= 5e6 else ("met by join/leave only" if update and update <= 5e6 else "NOT met")))
print()
# Issue 15: a ring of 10,000 endpoints.
pl, pu = ns("BM_LookupMultiProbe/10000"), ns("BM_UpdateMultiProbe/10000")
pb = med.get("BM_BuildMultiProbe/10000")
pmb = pb["MB"] if pb and "MB" in pb else None
dmb = med.get("BM_Build/10000", {}).get("MB")
print("Targets at N=10000 (issue 15), multiprobe mode: memory %s MB (target ≤ 32 MB): %s; lookup %s (target ≤ 30 ns): %s;"
      " join/leave %s (target ≤ 10 ms): %s. The default ring at N=10000 (419 points per node, its 4 M point"
      " budget): %s MB." % (
          "%.2f" % pmb if pmb is not None else "—", "met" if pmb is not None and pmb <= 32 else "NOT met",
          fmt(pl), "met" if pl and pl <= 30 else "NOT met", fmt(pu / 1e6 if pu else None, "ms", 2),
          "met" if pu and pu <= 10e6 else "NOT met", "%.1f" % dmb if dmb else "—"))
print()
PY
cat "$tmp/quality.md"
