#!/usr/bin/env bash
# bench/resp_bench.sh — ringd's RESP server against redis-server and a floor
# server (bench/floor_server.cc), on loopback, in the same run.
#
#   bench/resp_bench.sh [BUILD_DIR]      # default: build; prints Markdown
#
# Starts redis-server (no persistence), one ringd agent with --service (so
# the ring has a node) and the floor server, each on its own TCP port and
# Unix socket. redis-server is loaded with every key the benchmark asks for,
# holding the endpoint ringd answers, so all three send the same reply. Runs `redis-benchmark -t get -r 100000` at -c 1, -c 50 and
# -c 50 -P 16, over TCP and over the Unix socket, ROUNDS times with the
# server order rotated each round, and reports per case the median of the
# rounds: requests/s, p50 and p99 (redis-benchmark --csv) and the server's
# CPU per request (utime + stime from /proc/PID/stat over the run, divided
# by the requests). Counts: N_C1, N_C50, N_P16 (requests per run). Then
# bench/resp_session_bench (when built): the user-space part of a GET,
# without sockets.
# RINGD_ARGS adds flags to the agent (e.g. "--resp-threads 2").
set -euo pipefail

BUILD=${1:-build}
RINGD_BIN=${RINGD_BIN:-$BUILD/ringd}
FLOOR_BIN=${FLOOR_BIN:-$BUILD/bench/floor_server}
ROUNDS=${ROUNDS:-9}
N_C1=${N_C1:-60000}
N_C50=${N_C50:-200000}
N_P16=${N_P16:-800000}
RINGD_ARGS=${RINGD_ARGS:-}

for bin in "$RINGD_BIN" "$FLOOR_BIN"; do
  [[ -x $bin ]] || { echo "resp_bench: $bin not found (build it first)" >&2; exit 1; }
done
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
  { echo "resp_bench: needs redis-server and redis-benchmark (redis-tools)" >&2; exit 1; }

RUN=$(mktemp -d /tmp/resp-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ping() {  # port
  for _ in $(seq 200); do
    [[ $(redis-cli -p "$1" PING 2>/dev/null) == PONG ]] && return 0
    sleep 0.05
  done
  echo "resp_bench: nothing answers PING on port $1" >&2
  exit 1
}

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --unixsocket "$RUN/redis.sock" --save "" \
  --appendonly no --daemonize no --dir "$RUN" --logfile "$RUN/redis.log" &
PIDS+=($!); REDIS_PID=$!

RINGD_PORT=$(free_port)
# shellcheck disable=SC2086
"$RINGD_BIN" agent --node bench --bind "127.0.0.1:$(free_port)" --service 127.0.0.1:9001 --service-check none \
  --resp "127.0.0.1:$RINGD_PORT" --resp-unix "$RUN/ringd.sock" --http "127.0.0.1:$(free_port)" \
  --log-level warn $RINGD_ARGS >"$RUN/ringd.log" 2>&1 &
PIDS+=($!); RINGD_PID=$!

FLOOR_PORT=$(free_port)
"$FLOOR_BIN" --port "$FLOOR_PORT" --unix "$RUN/floor.sock" >"$RUN/floor.log" 2>&1 &
PIDS+=($!); FLOOR_PID=$!

wait_ping "$REDIS_PORT"; wait_ping "$RINGD_PORT"
for _ in $(seq 100); do [[ -S $RUN/floor.sock ]] && break; sleep 0.05; done

# redis-server answers the same GETs with the same reply: every key that
# `-r 100000` can produce (key:000000000000 .. key:000000099999) is set to
# the endpoint ringd answers, so all three servers send identical bytes. An
# empty redis would answer each GET with a 5-byte nil instead, a cheaper
# miss that both it and the client parse faster.
VALUE=$(redis-cli -p "$RINGD_PORT" GET key:000000000000)
[[ -n $VALUE ]] || { echo "resp_bench: ringd answers no endpoint" >&2; exit 1; }
/usr/bin/python3 - "$VALUE" <<'PY' | redis-cli -p "$REDIS_PORT" --pipe >"$RUN/populate.log"
import sys
value = sys.argv[1].encode()
out = sys.stdout.buffer
for i in range(100000):
    key = b"key:%012d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
PY
for key in key:000000000000 key:000000054321 key:000000099999; do
  [[ $(redis-cli -p "$REDIS_PORT" GET "$key") == "$VALUE" && $(redis-cli -p "$RINGD_PORT" GET "$key") == "$VALUE" ]] ||
    { echo "resp_bench: redis and ringd answer $key differently" >&2; exit 1; }
done
keys=$(redis-cli -p "$REDIS_PORT" DBSIZE)
[[ $keys == 100000 ]] || { echo "resp_bench: redis holds $keys keys, not 100000" >&2; exit 1; }

declare -A PORT=([redis]=$REDIS_PORT [ringd]=$RINGD_PORT [floor]=$FLOOR_PORT)
declare -A SOCK=([redis]=$RUN/redis.sock [ringd]=$RUN/ringd.sock [floor]=$RUN/floor.sock)
declare -A PID=([redis]=$REDIS_PID [ringd]=$RINGD_PID [floor]=$FLOOR_PID)

# CPU time of every thread of a process in ns: the first field of
# /proc/PID/task/*/schedstat is utime + stime with ns resolution (the
# /proc/PID/stat ticks are 10 ms, too coarse for short runs).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{t += $1} END {printf "%.0f", t}'; }

# One run: server case transport -> appends "server case transport rps p50 p99 us_per_req" to $RUN/results
run_one() {
  local server=$1 case=$2 transport=$3 n c p=1
  case $case in
    c1) n=$N_C1; c=1 ;;
    c50) n=$N_C50; c=50 ;;
    c50p16) n=$N_P16; c=50; p=16 ;;
  esac
  local target=(-p "${PORT[$server]}")
  [[ $transport == unix ]] && target=(-s "${SOCK[$server]}")
  local before after csv
  before=$(cpu_ns "${PID[$server]}")
  csv=$(redis-benchmark "${target[@]}" -t get -r 100000 -n "$n" -c "$c" -P "$p" --csv 2>/dev/null | grep '^"GET"')
  after=$(cpu_ns "${PID[$server]}")
  # "GET","rps","avg","min","p50","p95","p99","max"
  echo "$csv" | tr -d '"' | awk -F, -v s="$server" -v k="$case" -v t="$transport" -v n="$n" \
    -v d="$((after - before))" \
    '{printf "%s %s %s %s %s %s %.3f\n", s, k, t, $2, $5, $7, d / 1000 / n}' >>"$RUN/results"
}

SERVERS=(floor ringd redis)
for round in $(seq "$ROUNDS"); do
  for case in c1 c50 c50p16; do
    for transport in tcp unix; do
      # Rotate the order each round so no server always runs first.
      for i in 0 1 2; do
        run_one "${SERVERS[$(((i + round) % 3))]}" "$case" "$transport"
      done
    done
  done
done

# The user-space part of a GET, without sockets (bench/resp_session_bench.cc).
SESSION_BIN=$BUILD/bench/resp_session_bench
if [[ -x $SESSION_BIN ]]; then
  "$SESSION_BIN" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=csv \
    2>/dev/null | grep '_median"' >"$RUN/session.csv" || true
fi

/usr/bin/python3 - "$RUN/results" "$ROUNDS" "$N_C1" "$N_C50" "$N_P16" "$RINGD_ARGS" "$RUN/session.csv" <<'EOF'
import statistics, sys
path, rounds, n1, n50, n16, rargs, session = sys.argv[1:]
rows = {}
for line in open(path):
    s, k, t, rps, p50, p99, cpu = line.split()
    rows.setdefault((k, t, s), []).append((float(rps), float(p50), float(p99), float(cpu)))
med = lambda xs: statistics.median(xs)
def fig(k, t, s):
    v = rows.get((k, t, s), [])
    return tuple(med([x[i] for x in v]) for i in range(4)) if v else None
labels = {"c1": "-c 1", "c50": "-c 50", "c50p16": "-c 50 -P 16"}
print("## RESP server: ringd vs redis-server vs a floor server\n")
print("`bench/resp_bench.sh` on loopback: `redis-benchmark -t get -r 100000 --csv`; median of %s rounds, "
      "server order rotated per round; requests per run: -c 1 %s, -c 50 %s, -P 16 %s. CPU per request = "
      "server utime+stime (all threads, /proc/PID/task/*/schedstat) over the run / requests. ringd flags: `%s`. "
      "redis-server holds all 100,000 keys the benchmark asks for, each set to the endpoint ringd answers, and the "
      "floor server answers the same bulk string: all three send identical replies.\n" % (rounds, n1, n50, n16, rargs or "(defaults)"))
print("| load | transport | server | req/s | p50 ms | p99 ms | CPU µs/req |")
print("|---|---|---|---:|---:|---:|---:|")
for k in ("c1", "c50", "c50p16"):
    for t in ("tcp", "unix"):
        for s in ("floor", "ringd", "redis"):
            f = fig(k, t, s)
            if f:
                print("| %s | %s | %s | %.0f | %.3f | %.3f | %.2f |" % (labels[k], t, s, f[0], f[1], f[2], f[3]))
print("\nTargets (issue 5): ringd CPU/req ≤ 1.15× floor; req/s ≥ redis and ≥ 0.9× floor; p50 ≤ redis.\n")
print("| load | transport | CPU ringd/floor | req/s ringd/redis | req/s ringd/floor | p50 ringd ≤ redis | all met |")
print("|---|---|---:|---:|---:|:-:|:-:|")
for k in ("c1", "c50", "c50p16"):
    for t in ("tcp", "unix"):
        fl, rd, rs = fig(k, t, "floor"), fig(k, t, "ringd"), fig(k, t, "redis")
        if not (fl and rd and rs):
            continue
        cpu = rd[3] / fl[3] if fl[3] else float("inf")
        vs_redis = rd[0] / rs[0]
        vs_floor = rd[0] / fl[0]
        p50_ok = rd[1] <= rs[1]
        ok = cpu <= 1.15 and vs_redis >= 1.0 and vs_floor >= 0.9 and p50_ok
        print("| %s | %s | %.2f | %.2f | %.2f | %s | %s |" % (labels[k], t, cpu, vs_redis, vs_floor,
              "yes" if p50_ok else "no", "yes" if ok else "no"))
try:
    lines = [l.split(",") for l in open(session) if l.strip()]
except OSError:
    lines = []
if lines:
    print("\nThe user-space part of a GET, without sockets (`resp_session_bench`, median of 3: the agent's "
          "RingBackend and a resp::Session fed redis-benchmark's bytes, warm caches):\n")
    print("| ring nodes | GETs per read | ns per GET |")
    print("|---:|---:|---:|")
    for l in lines:
        nodes, per_read = l[0].strip('"').split("/")[1:3]
        per_read = per_read.split("_")[0]
        print("| %s | %s | %.1f |" % (nodes, per_read, float(l[3]) / int(per_read)))
EOF
