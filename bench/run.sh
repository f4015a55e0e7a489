#!/usr/bin/env bash
# Runs every benchmark and writes bench/RESULTS.md from what they print.
#
#   bench/run.sh                 # uses build/ (run deploy/test.sh or build first)
#   SECTIONS="ring resp" bench/run.sh   # a subset: ring gossip membership resp nginx failures crypto
#                                # (the other sections of RESULTS.md are kept
#                                # as their own run wrote them)
#   SECTIONS="ring resp,gossip membership" bench/run.sh
#                                # groups split by commas run side by side
#   GOSSIP_ARGS="--quick" bench/run.sh  # flags for gossip_sim_bench (the full
#                                # run simulates N = 1000 and takes an hour)
#   SECTIONS=gossip10k bench/run.sh  # not in the default list: N = 10,000 on the
#                                # simulator, ~12 GB of memory; SCALE_ARGS=
#                                # "--loss-minutes 0.5" for a shorter lossy phase
#   SECTIONS=soak bench/run.sh   # not in the default list: 30 minutes, as root
#   SECTIONS=agents100 bench/run.sh  # not in the default list: 100 agents, ~5 minutes
#                                # (network namespaces, iptables): 10 agents
#                                # at 5% packet loss, a kill/leave/SIGSTOP/move
#                                # every minute; false deaths, propagation
#                                # times, RSS (bench/soak_bench.py). A failed
#                                # target is written to its section, not fatal.
#   SOAK_ARGS="--minutes 3" SECTIONS=soak bench/run.sh  # flags for soak_bench.py
#                                # (--minutes, --agents, --loss); SOAK_EXTRA_ARGS=
#                                # "--flag value" adds ringd flags to every agent
#
# Never edit RESULTS.md by hand: rerun this script. Each section is produced
# by its own script or program, which prints Markdown on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECTIONS=${SECTIONS:-"ring gossip membership resp nginx failures crypto"}
GOSSIP_ARGS=${GOSSIP_ARGS:-}
SCALE_ARGS=${SCALE_ARGS:-}
SOAK_ARGS=${SOAK_ARGS:-}
SOAK_EXTRA_ARGS=${SOAK_EXTRA_ARGS:-}
OUT=bench/RESULTS.md
export BUILD
load_at_start=$(cut -d" " -f1-3 /proc/loadavg)
# The commit that was built and run (HEAD may move while a long run goes on).
commit_at_start=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_section() {
  case $1 in
    ring) bench/ring_run.sh ;;
    gossip)
      echo "## Membership, simulated (\`$BUILD/bench/gossip_sim_bench $GOSSIP_ARGS\`)"
      echo
      # shellcheck disable=SC2086 # flags split on purpose
      "$BUILD/bench/gossip_sim_bench" $GOSSIP_ARGS ;;
    gossip10k)
      echo "## Membership at N = 10,000, simulated (\`$BUILD/bench/gossip_scale_bench $SCALE_ARGS\`)"
      echo
      # shellcheck disable=SC2086 # flags split on purpose
      "$BUILD/bench/gossip_scale_bench" $SCALE_ARGS ;;
    membership)
      echo "## Membership, real processes (\`/usr/bin/python3 bench/membership_bench.py --n 10 30 --trials 3 --idle-seconds 20\`)"
      echo
      /usr/bin/python3 bench/membership_bench.py --n 10 30 --trials 3 --idle-seconds 20 ;;
    resp) bench/resp_bench.sh "$BUILD" ;;  # prints its own heading
    nginx) RINGD_BIN="$BUILD/ringd" /usr/bin/python3 bench/nginx_bench.py --rounds 5 --seconds 4 --callgrind ;;
    failures) RINGD_BIN="$BUILD/ringd" /usr/bin/python3 bench/failures_bench.py --seconds 20 ;;
    crypto)
      echo "## Sealed gossip: crypto cost per message, idle CPU at N = 30 (\`$BUILD/bench/gossip_crypto_bench\`, \`/usr/bin/python3 bench/crypto_idle_bench.py --n 30 --rounds 3 --idle-seconds 20\`)"
      echo
      echo '```'
      "$BUILD/bench/gossip_crypto_bench" --benchmark_min_time=0.5 2>/dev/null | grep -E '^(BM_|Benchmark|-)'
      echo '```'
      echo
      RINGD_BIN="$BUILD/ringd" /usr/bin/python3 bench/crypto_idle_bench.py --n 30 --rounds 3 --idle-seconds 20 ;;
    agents100)
      echo "## Many agents on one machine (\`/usr/bin/python3 bench/many_agents_bench.py --n 100 --small 10 --rounds 2\`)"
      echo
      RINGD_BIN="$BUILD/ringd" /usr/bin/python3 bench/many_agents_bench.py --n 100 --small 10 --rounds 2 ;;
    soak)  # prints its own heading, with its flags; exits 1 on a missed target
      # shellcheck disable=SC2086 # flags split on purpose
      RINGD_BIN="$BUILD/ringd" /usr/bin/python3 bench/soak_bench.py $SOAK_ARGS \
        ${SOAK_EXTRA_ARGS:+"--extra-args=$SOAK_EXTRA_ARGS"} ||
        echo "bench/run.sh: soak missed a target (exit $?): see its section" >&2 ;;
    *) echo "bench/run.sh: unknown section $1" >&2; exit 2 ;;
  esac
}

run_group() {
  for s in $1; do
    echo "bench/run.sh: running $s" >&2
    run_section "$s" >"$tmp/$s.md"
  done
}
IFS=, read -ra groups <<<"$SECTIONS"
pids=()
for g in "${groups[@]}"; do
  run_group "$g" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

stamp="run of $(date -u +%Y-%m-%d) at commit $commit_at_start; $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r); load average at start $load_at_start"
if ((${#groups[@]} > 1)); then
  stamp="$stamp; groups side by side: $(printf '[%s] ' "${groups[@]}")"
fi
merge=()
for s in ${SECTIONS//,/ }; do merge+=("$s=$tmp/$s.md"); done
/usr/bin/python3 bench/merge_results.py "$OUT" "$stamp" "${merge[@]}"
echo "wrote $OUT" >&2
