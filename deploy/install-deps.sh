#!/usr/bin/env bash
# Install everything ringd needs to build, test and run its demo on Debian 12.
#
#   deploy/install-deps.sh        # as root (or with sudo)
#
# As another user it runs itself again through sudo when sudo is installed;
# without sudo it says so in one line and exits 1.
#
# Idempotent: when every package is already installed it does nothing (no
# apt-get update), so repeat runs take well under a second. Works without a TTY.
#
# Installing nginx or redis-server normally starts the system services
# (nginx on port 80, redis on 6379). ringd's scripts run their own nginx and
# never use those, so while this script installs packages it puts a temporary
# /usr/sbin/policy-rc.d in place that forbids service starts, and removes it
# afterwards (only if this script created it).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-program-options-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev zlib1g-dev libmd-dev
  nettle-dev  # AES-256-GCM, SHA-256, base64 for sealed gossip (agent/gossip_crypto, keyring)
  libssl-dev  # OpenSSL: an independent AES-GCM for agent_gossip_crypto_test
  nginx libnginx-mod-http-lua
  redis-server redis-tools
  python3 python3-redis python3-msgpack python3-uhashring serf
  clang libclang-rt-14-dev
  curl iproute2 iptables procps wrk valgrind  # valgrind: bench/nginx_callgrind.py
  systemd  # systemd-analyze, for tests/deploy (the unit's sandbox rating)
  file dpkg-dev  # cpack -G DEB: file finds the ELF files, dpkg-shlibdeps their library dependencies
  prometheus  # promtool check metrics: the /metrics exposition format
  chromium  # headless, for the /ui dashboard test
  yamllint python3-yaml  # the Kubernetes manifests' test
)

log() { printf 'install-deps: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    log "not root: running again through sudo" >&2
    exec sudo -- "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/install-deps.sh" "$@"
  fi
  log "must run as root (or with sudo, which is not installed): log in as root and run $0 again" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
log "installing: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [[ $created_policy -eq 1 ]]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [[ ! -e $POLICY ]]; then
  # Exit code 101 = "action forbidden by policy": invoke-rc.d starts nothing.
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
  created_policy=1
fi

apt-get update -q
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

# Belt and braces: on systems where the policy file did not apply (e.g. a
# systemd host where the unit was started anyway), stop a system nginx that
# this install started, so nothing squats on port 80.
if [[ " ${missing[*]} " == *" nginx "* ]]; then
  if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    log "stopping the system nginx the package started"
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
      systemctl stop nginx || true
      systemctl disable nginx >/dev/null 2>&1 || true
    else
      kill -QUIT "$(cat /run/nginx.pid)" || true
    fi
  fi
fi

log "done"
