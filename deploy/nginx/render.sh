#!/usr/bin/env bash
# Render deploy/nginx/nginx.conf.template into a run directory.
#
#   deploy/nginx/render.sh --rundir DIR --listen IP:PORT --agent IP:PORT|unix:/PATH \
#                          [--workers N] [--user USER] [--lookup snapshot|resp]
#
# --lookup snapshot (default): workers hold the agent's ring and find owners
# in-process; resp: one RESP lookup (RING.OWNERS) to the agent per request.
# unix:/PATH talks to the agent's --resp-unix socket: cheaper than TCP for
# both sides, worth it for --lookup resp (nginx and the agent share a host).
#
# Creates DIR/logs and DIR/tmp, writes DIR/nginx.conf and prints its path.
# Start nginx on it (never touches /etc/nginx or port 80):
#   nginx -p DIR -c DIR/nginx.conf -e DIR/logs/error.log -g 'daemon off;'
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rundir="" listen="" agent="" workers=2 user="" lookup=snapshot

die() { printf 'render.sh: %s\n' "$*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --rundir)  rundir=${2:?}; shift 2 ;;
    --listen)  listen=${2:?}; shift 2 ;;
    --agent)   agent=${2:?}; shift 2 ;;
    --workers) workers=${2:?}; shift 2 ;;
    --user)    user=${2:?}; shift 2 ;;
    --lookup)  lookup=${2:?}; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ -n $rundir && -n $listen && -n $agent ]] || die "need --rundir, --listen and --agent"
if [[ $agent =~ ^([0-9.]+):([0-9]+)$ ]]; then
  agent_host=${BASH_REMATCH[1]} agent_port=${BASH_REMATCH[2]}
elif [[ $agent =~ ^unix:(/[^\"|&]+)$ ]]; then
  # The agent's --resp-unix socket: port 0 tells the Lua modules.
  agent_host=$agent agent_port=0
else
  die "--agent must be IPv4:PORT or unix:/PATH (the agent's --resp-unix), got '$agent'"
fi
[[ $listen =~ ^[0-9.]+:[0-9]+$ ]] || die "--listen must be IPv4:PORT, got '$listen'"
[[ $workers =~ ^[0-9]+$ ]] || die "--workers must be a number"
# Lines of the template marked "#@resp" are for --lookup resp only.
case $lookup in
  snapshot) lookup_module=ringd.snapshot_route resp_lines='/#@resp$/d' ;;
  resp)     lookup_module=ringd.route resp_lines='s/[[:space:]]*#@resp$//' ;;
  *) die "--lookup must be snapshot or resp, got '$lookup'" ;;
esac
# Workers run as this user when the master starts as root. The run directory
# and the Lua files must be readable by it; by default use the caller.
[[ -n $user ]] || user=$(id -un)

mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
for v in "$rundir" "$here/lua"; do
  [[ $v != *[\|\&\\]* ]] || die "path contains |, & or \\: $v"
done
mkdir -p "$rundir/logs" "$rundir/tmp"

# Comment lines keep their placeholders (they document the template).
nc='/^[[:space:]]*#/!'
sed -e "${nc}s|@RUNDIR@|$rundir|g" \
    -e "${nc}s|@LISTEN@|$listen|g" \
    -e "${nc}s|@AGENT_HOST@|$agent_host|g" \
    -e "${nc}s|@AGENT_PORT@|$agent_port|g" \
    -e "${nc}s|@LUA_DIR@|$here/lua|g" \
    -e "${nc}s|@WORKERS@|$workers|g" \
    -e "${nc}s|@USER@|$user|g" \
    -e "${nc}s|@LOOKUP_MODULE@|$lookup_module|g" \
    -e "$resp_lines" \
    "$here/nginx.conf.template" >"$rundir/nginx.conf.tmp"
left=$(grep -v '^[[:space:]]*#' "$rundir/nginx.conf.tmp" | grep -o '@[A-Z_]*@' | head -1 || true)
[[ -z $left ]] || die "unreplaced placeholder in template: $left"
mv "$rundir/nginx.conf.tmp" "$rundir/nginx.conf"
printf '%s\n' "$rundir/nginx.conf"
