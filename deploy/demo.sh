#!/usr/bin/env bash
# ringd demo: nginx sends every request for the same document to the same
# backend, and when a backend host dies only its documents move.
#
#   deploy/demo.sh       # as root (or with sudo), on a fresh Debian 12 machine, from the checkout
#
# Root is for installing packages (deploy/install-deps.sh). As another user
# it runs itself again through sudo when sudo is installed; without sudo it
# says so in one line and exits 1. With RINGD_BIN set it needs no root.
#
# What it does, all on 127.0.0.1:
#   1. deploy/install-deps.sh, then builds ringd into build/
#   2. starts three backend hosts -- each a deploy/backend.py plus a ringd
#      agent advertising it with --service -- and one nginx host: a
#      router-only ringd agent and nginx (deploy/nginx) asking it over RESP
#   3. waits until every agent sees all four members alive and a 3-node ring
#   4. sends 20 documents through nginx twice: same key, same backend
#   5. kills backend3's process while its agent lives, under a stream of
#      requests: none fails (nginx tries the key's next owner), its service
#      leaves every ring within a second (the agent checks it), and comes
#      back once the backend is restarted
#   6. SIGKILLs host2 (its agent and its backend), waits until the ring drops
#      it, sends the 20 documents again: only host2's documents moved
#   7. stops everything it started (also on Ctrl-C or an error)
#
# Ports (fixed, loopback only):
#              backend   gossip(UDP+TCP)  RESP    HTTP API
#   host1      19001     17001            16001   18001
#   host2      19002     17002            16002   18002
#   host3      19003     17003            16003   18003
#   router     -         17000            16000   18000
#   nginx      18080 (http://127.0.0.1:18080/documents/...), snapshot mode:
#              its workers hold the router agent's ring (deploy/nginx)
#
# Environment:
#   RINGD_BIN=path   use this ringd binary and skip install + build
#   KEEP_RUNDIR=1    keep the run directory (logs, nginx config) afterwards
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ $(id -u) -ne 0 && -z ${RINGD_BIN:-} ]]; then
  if command -v sudo >/dev/null 2>&1; then
    printf 'demo: not root: running again through sudo\n' >&2
    exec sudo ${KEEP_RUNDIR:+--preserve-env=KEEP_RUNDIR} -- "$SRC/deploy/demo.sh" "$@"
  fi
  printf 'demo: must run as root (or with sudo, which is not installed): log in as root and run %s again, or set RINGD_BIN=path/to/ringd\n' "$0" >&2
  exit 1
fi

PY=/usr/bin/python3
NGINX_PORT=18080
ROUTER_GOSSIP=17000 ROUTER_RESP=16000 ROUTER_HTTP=18000
HOSTS=(host1 host2 host3)
VICTIM=host2
NUM_KEYS=20

backend_port() { echo $((19000 + ${1#host})); }
gossip_port()  { echo $((17000 + ${1#host})); }
resp_port()    { echo $((16000 + ${1#host})); }
http_port()    { echo $((18000 + ${1#host})); }

# ---------------------------------------------------------------- output
if [[ -t 1 ]]; then
  B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' D=$'\e[2m' N=$'\e[0m'
else
  B="" G="" R="" Y="" D="" N=""
fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup
RUNDIR=""
declare -A PIDS=()   # name -> pid of every process this script started
ORDER=()             # start order; stopped in reverse

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${#ORDER[@]} -gt 0 ]]; then
    step "Stopping everything this demo started"
    local i name pid
    for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
      name=${ORDER[i]}
      pid=${PIDS[$name]:-}
      [[ -n $pid ]] || continue
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done
    # Bounded wait, then SIGKILL whatever is left (by PID).
    local deadline=$((SECONDS + 10))
    for name in "${ORDER[@]}"; do
      pid=${PIDS[$name]:-}
      [[ -n $pid ]] || continue
      while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        info "$name (pid $pid) killed"
      else
        info "$name (pid $pid) stopped"
      fi
      wait "$pid" 2>/dev/null || true
    done
  fi
  if [[ -n $RUNDIR && -d $RUNDIR ]]; then
    rmdir "$RUNDIR" 2>/dev/null || true  # nothing in it: nothing to keep
  fi
  if [[ -n $RUNDIR && -d $RUNDIR ]]; then
    if [[ ${KEEP_RUNDIR:-0} == 1 || ($rc -ne 0 && $rc -ne 130 && $rc -ne 143) ]]; then
      info "logs kept in $RUNDIR"
    else
      rm -rf "$RUNDIR"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
# start NAME CMD...: runs CMD in the background, output to RUNDIR/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$RUNDIR/$name.log" 2>&1 &
  PIDS[$name]=$!
  [[ " ${ORDER[*]} " == *" $name "* ]] || ORDER+=("$name")  # a restart keeps its place
}

# json URL PYTHON-EXPR: fetch URL, evaluate EXPR with the document as `d`.
json() {
  curl -fsS --max-time 2 "$1" 2>/dev/null |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); print('"$2"')' 2>/dev/null
}

# wait_for TIMEOUT WHAT CMD...: polls CMD until it succeeds, or fails after TIMEOUT s.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what (logs: $RUNDIR)"
    sleep 0.1
  done
}

check_alive() {
  local name
  for name in "$@"; do
    kill -0 "${PIDS[$name]}" 2>/dev/null ||
      fail "$name exited early; last lines of $RUNDIR/$name.log:
$(tail -n 15 "$RUNDIR/$name.log")"
  done
}

# all agents in $1 (space separated) report exactly those members alive,
# and a ring of $2 nodes with a single checksum.
cluster_is() {
  local agents=$1 nodes=$2 a sums="" want
  want=$(tr ' ' '\n' <<<"$agents" | sort | tr '\n' ' ')
  for a in $agents; do
    check_alive "$a"
    local port
    if [[ $a == router ]]; then port=$ROUTER_HTTP; else port=$(http_port "$a"); fi
    local alive
    alive=$(json "http://127.0.0.1:$port/members" \
      '" ".join(sorted(m["name"] for m in d["members"] if m["state"] == "alive")) + " "') || return 1
    [[ $alive == "$want" ]] || return 1
    local ring
    ring=$(json "http://127.0.0.1:$port/ring" 'str(len(d["nodes"])) + " " + d["checksum"]') || return 1
    [[ ${ring%% *} == "$nodes" ]] || return 1
    sums+="${ring#* }"$'\n'
  done
  [[ $(sort -u <<<"$sums" | grep -c .) -eq 1 ]]
}

port_free() {
  ! ss -Hltnu "( sport = :$1 )" 2>/dev/null | grep -q .
}

# route KEY -> "STATUS BACKEND-NAME SERVICE"
route() {
  curl -s --max-time 5 -o /dev/null \
    -w '%{http_code} %header{x-backend} %header{x-ringd-backend}' \
    "http://127.0.0.1:$NGINX_PORT$1"
}

# ---------------------------------------------------------------- 1. setup
RUNDIR=$(mktemp -d /tmp/ringd-demo.XXXXXX)
if [[ -n ${RINGD_BIN:-} ]]; then
  step "Using RINGD_BIN=$RINGD_BIN (skipping install and build)"
  [[ -x $RINGD_BIN ]] || fail "RINGD_BIN=$RINGD_BIN is not an executable"
else
  step "Installing dependencies (deploy/install-deps.sh)"
  "$SRC/deploy/install-deps.sh"
  step "Building ringd: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2"
  info "(output in $RUNDIR/build.log; the first build takes a few minutes)"
  if ! (cd "$SRC" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release &&
        cmake --build build -j2) >"$RUNDIR/build.log" 2>&1; then
    tail -n 30 "$RUNDIR/build.log" >&2
    fail "build failed (full log: $RUNDIR/build.log)"
  fi
  RINGD_BIN=$SRC/build/ringd
  [[ -x $RINGD_BIN ]] || fail "build did not produce $RINGD_BIN"
fi
info "ringd: $RINGD_BIN"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || fail "nginx not installed (deploy/install-deps.sh)"
[[ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]] || fail "libnginx-mod-http-lua not installed (deploy/install-deps.sh)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

ports=("$NGINX_PORT" "$ROUTER_GOSSIP" "$ROUTER_RESP" "$ROUTER_HTTP")
for h in "${HOSTS[@]}"; do
  ports+=("$(backend_port "$h")" "$(gossip_port "$h")" "$(resp_port "$h")" "$(http_port "$h")")
done
for p in "${ports[@]}"; do
  port_free "$p" || fail "port $p is in use on this machine; the demo needs ports: ${ports[*]}"
done

info "run directory: $RUNDIR"

# ---------------------------------------------------------------- 2. start
step "Starting 3 backend hosts and the router host"
seeds_except() {
  local me=$1 h out=()
  [[ $me == router ]] || out+=(--join "127.0.0.1:$ROUTER_GOSSIP")
  for h in "${HOSTS[@]}"; do
    [[ $h == "$me" ]] || out+=(--join "127.0.0.1:$(gossip_port "$h")")
  done
  printf '%s\n' "${out[@]}"
}
for h in "${HOSTS[@]}"; do
  n=${h#host}
  start "backend$n" "$PY" "$SRC/deploy/backend.py" --name "backend$n" \
    --listen "127.0.0.1:$(backend_port "$h")"
  mapfile -t seeds < <(seeds_except "$h")
  start "$h" "$RINGD_BIN" agent --node "$h" --bind "127.0.0.1:$(gossip_port "$h")" \
    "${seeds[@]}" --service "127.0.0.1:$(backend_port "$h")" \
    --resp "127.0.0.1:$(resp_port "$h")" --http "127.0.0.1:$(http_port "$h")"
  info "$h: backend$n on 127.0.0.1:$(backend_port "$h"), agent gossip :$(gossip_port "$h")" \
       "RESP :$(resp_port "$h") HTTP :$(http_port "$h")"
done
mapfile -t seeds < <(seeds_except router)
start router "$RINGD_BIN" agent --node router --bind "127.0.0.1:$ROUTER_GOSSIP" \
  "${seeds[@]}" --resp "127.0.0.1:$ROUTER_RESP" --http "127.0.0.1:$ROUTER_HTTP"
info "router: agent gossip :$ROUTER_GOSSIP RESP :$ROUTER_RESP HTTP :$ROUTER_HTTP (no service)"

step "Waiting for all 4 agents alive and a 3-node ring everywhere"
t0=$SECONDS
wait_for 30 "4 members alive, 3-node ring" cluster_is "host1 host2 host3 router" 3
info "converged in $((SECONDS - t0))s"
info "router /ring: $(json "http://127.0.0.1:$ROUTER_HTTP/ring" '" ".join(d["nodes"]) + "  checksum " + d["checksum"]')"
printf '%s' "$D"
json "http://127.0.0.1:$ROUTER_HTTP/members" \
  '"\n".join("    %-7s %-6s %-16s service %s" % (m["name"], m["state"], m["address"], m["service"] or "none (router only)") for m in d["members"])'
printf '%s' "$N"

step "Starting nginx on 127.0.0.1:$NGINX_PORT (holds the router agent's ring, from 127.0.0.1:$ROUTER_RESP)"
"$SRC/deploy/nginx/render.sh" --rundir "$RUNDIR/nginx" --listen "127.0.0.1:$NGINX_PORT" \
  --agent "127.0.0.1:$ROUTER_RESP" >/dev/null
"$NGINX" -t -q -p "$RUNDIR/nginx" -c "$RUNDIR/nginx/nginx.conf" -e "$RUNDIR/nginx/logs/error.log" ||
  fail "nginx -t failed"
start nginx "$NGINX" -p "$RUNDIR/nginx" -c "$RUNDIR/nginx/nginx.conf" \
  -e "$RUNDIR/nginx/logs/error.log" -g 'daemon off;'
nginx_up() { check_alive nginx; curl -fs --max-time 1 -o /dev/null "http://127.0.0.1:$NGINX_PORT/nginx-health"; }
wait_for 10 "nginx to answer" nginx_up
info "config: $RUNDIR/nginx/nginx.conf"
info "the agent speaks Redis: redis-cli -p $ROUTER_RESP GET /documents/report-1 -> $(redis-cli -p "$ROUTER_RESP" GET /documents/report-1 2>/dev/null || echo '?')"

# ---------------------------------------------------------------- 3. route
KEYS=()
for i in $(seq 1 "$NUM_KEYS"); do KEYS+=("/documents/report-$i"); done
declare -A FIRST=() SECOND=() AFTER=() SERVICE=()

step "Sending $NUM_KEYS documents through nginx, twice"
printf '    %s%-24s %-10s %-10s%s\n' "$B" "key" "1st" "2nd" "$N"
same=0
for k in "${KEYS[@]}"; do
  read -r code1 b1 s1 <<<"$(route "$k")"
  read -r code2 b2 s2 <<<"$(route "$k")"
  [[ $code1 == 200 && $code2 == 200 ]] || fail "$k: HTTP $code1 / $code2"
  FIRST[$k]=$b1 SECOND[$k]=$b2 SERVICE[$b1]=$s1
  mark="${G}same$N"
  if [[ $b1 == "$b2" ]]; then same=$((same + 1)); else mark="${R}DIFFERENT$N"; fi
  printf '    %-24s %-10s %-10s %s\n' "$k" "$b1" "$b2" "$mark"
done
info "$same of $NUM_KEYS keys went to the same backend both times"
((same == NUM_KEYS)) || fail "routing was not stable"
for b in $(printf '%s\n' "${FIRST[@]}" | sort | uniq -c | awk '{print $2":"$1}'); do
  info "${b%%:*} (${SERVICE[${b%%:*}]:-?}) got ${b##*:} keys"
done

# ---------------------------------------------------------------- 4. backend dies
# load SECONDS KEYS...: GETs through nginx round the keys on one keepalive
# connection for SECONDS; prints "requests failed" (non-2xx or errors).
load() {
  "$PY" - "$NGINX_PORT" "$@" <<'PYLOAD'
import http.client, sys, time
port, seconds, keys = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
conn, done, failed, end = None, 0, 0, time.monotonic() + seconds
while time.monotonic() < end and done < 100000:
    key = keys[done % len(keys)]
    done += 1
    try:
        conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", key)
        r = conn.getresponse()
        r.read()
        if not 200 <= r.status < 300:
            failed += 1
    except (OSError, http.client.HTTPException):
        failed += 1
        conn = None
print(done, failed)
PYLOAD
}
on_router_ring() {
  [[ $(json "http://127.0.0.1:$ROUTER_HTTP/ring" '"yes" if "'"$1"'" in d["nodes"] else "no"') == "$2" ]]
}
dead_backend=backend3
dead_service="127.0.0.1:$(backend_port host3)"
step "Killing $dead_backend's process while its agent lives, under a stream of requests"
load 4 "${KEYS[@]}" >"$RUNDIR/load.out" &
load_pid=$!
sleep 1
t_kill=$(date +%s.%N)
disown "${PIDS[$dead_backend]}" 2>/dev/null || true
kill -KILL "${PIDS[$dead_backend]}"
unset "PIDS[$dead_backend]"
wait_for 5 "$dead_service off the router's ring" on_router_ring "$dead_service" no
t_off=$(date +%s.%N)
wait "$load_pid"
read -r sent failed <"$RUNDIR/load.out"
info "host3's agent saw its service fail its checks; the service left the ring $(awk "BEGIN {printf \"%.2f\", $t_off - $t_kill}")s after the kill"
info "meanwhile nginx tried each of backend3's keys on its next owner: $sent requests, ${failed} failed"
((failed == 0)) || fail "$failed requests failed while backend3 died"
json "http://127.0.0.1:$ROUTER_HTTP/members" \
  '"    " + "\n    ".join("%-7s %-6s service %s: %s" % (m["name"], m["state"], m["service"], m["service_health"]) for m in d["members"] if m["service"])'
step "Restarting $dead_backend: its agent's checks put it back on the ring"
start "$dead_backend" "$PY" "$SRC/deploy/backend.py" --name "$dead_backend" --listen "$dead_service"
wait_for 10 "$dead_service back on the router's ring" on_router_ring "$dead_service" yes
info "back: $(json "http://127.0.0.1:$ROUTER_HTTP/ring" '" ".join(d["nodes"])')"

# ---------------------------------------------------------------- 5. kill
victim_n=${VICTIM#host}
step "SIGKILL $VICTIM: its ringd agent (pid ${PIDS[$VICTIM]}) and backend$victim_n (pid ${PIDS[backend$victim_n]})"
# disown first, so bash does not print a "Killed" job notice.
disown "${PIDS[$VICTIM]}" "${PIDS[backend$victim_n]}" 2>/dev/null || true
kill -KILL "${PIDS[$VICTIM]}"
kill -TERM "${PIDS[backend$victim_n]}"
for _ in $(seq 100); do
  kill -0 "${PIDS[$VICTIM]}" 2>/dev/null || kill -0 "${PIDS[backend$victim_n]}" 2>/dev/null || break
  sleep 0.05
done
unset "PIDS[$VICTIM]" "PIDS[backend$victim_n]"
survivors=$(printf '%s ' "${HOSTS[@]}" | sed "s/$VICTIM //")
t0=$SECONDS
wait_for 60 "the ring to drop $VICTIM" cluster_is "${survivors}router" 2
info "the other agents declared $VICTIM dead and rebuilt the ring within $((SECONDS - t0))s"
info "router /ring: $(json "http://127.0.0.1:$ROUTER_HTTP/ring" '" ".join(d["nodes"]) + "  checksum " + d["checksum"]')"

step "Sending the same $NUM_KEYS documents again"
printf '    %s%-24s %-10s %-10s%s\n' "$B" "key" "before" "after" "$N"
moved=0 wrong=0
for k in "${KEYS[@]}"; do
  read -r code b s <<<"$(route "$k")"
  [[ $code == 200 ]] || fail "$k: HTTP $code"
  AFTER[$k]=$b
  if [[ $b == "${FIRST[$k]}" ]]; then
    mark="${D}stayed$N"
  elif [[ ${FIRST[$k]} == "backend$victim_n" ]]; then
    mark="${Y}moved (its host died)$N"; moved=$((moved + 1))
  else
    mark="${R}MOVED although its host is alive$N"; wrong=$((wrong + 1))
  fi
  printf '    %-24s %-10s %-10s %s\n' "$k" "${FIRST[$k]}" "$b" "$mark"
done
victim_keys=0
for k in "${KEYS[@]}"; do [[ ${FIRST[$k]} == "backend$victim_n" ]] && victim_keys=$((victim_keys + 1)); done
if ((wrong == 0 && moved == victim_keys)); then
  info "${G}$moved keys moved -- exactly the $victim_keys that lived on $VICTIM; the other $((NUM_KEYS - moved)) stayed put$N"
else
  fail "$wrong keys of live hosts moved; $moved of $victim_keys keys of $VICTIM moved"
fi

step "Done"
info "KEEP_RUNDIR=1 $0 keeps the logs and the nginx config for a look afterwards"
