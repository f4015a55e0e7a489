#!/usr/bin/env bash
# Installs a built ringd as a systemd service on this host.
#
#   deploy/install.sh                       # as root (or with sudo), after the build
#   DESTDIR=/tmp/root deploy/install.sh     # into a scratch root instead (any user)
#
# Puts, under $DESTDIR (default: nothing, i.e. /):
#   /usr/local/bin/ringd                           the binary (build/ringd)
#   /etc/systemd/system/ringd.service              deploy/systemd/ringd.service
#   /etc/ringd/ringd.json                          deploy/systemd/ringd.json, only if absent
#   /usr/local/share/doc/ringd/README.md           the unit's Documentation=
#   /usr/local/share/ringd/nginx/                  deploy/nginx (template, render.sh, Lua)
# and prints each step. It starts nothing: on a live systemd host it runs
# `systemctl daemon-reload` and tells you how to enable the service; with
# DESTDIR set it touches nothing outside DESTDIR.
#
# Environment:
#   RINGD_BIN=path   install this binary instead of build/ringd
#   DESTDIR=dir      install under this directory
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DESTDIR=${DESTDIR:-}
BIN=${RINGD_BIN:-$SRC/build/ringd}

log() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

# Installing into / needs root. As another user, run again through sudo when
# it is installed; otherwise say so in one line.
if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    log "not root: running again through sudo" >&2
    exec sudo ${RINGD_BIN:+--preserve-env=RINGD_BIN} -- "$SRC/deploy/install.sh" "$@"
  fi
  die "must run as root (or with sudo, which is not installed): log in as root and run $0 again, or set DESTDIR"
fi
[[ $# -eq 0 ]] || die "takes no arguments (see the header of $0)"
[[ -f $BIN && -x $BIN ]] || die "no ringd binary at $BIN: build it first (README, Build) or set RINGD_BIN"
if [[ -n $DESTDIR ]]; then
  mkdir -p "$DESTDIR"
  DESTDIR=$(cd "$DESTDIR" && pwd)
fi

put() {  # put MODE SRC DEST
  install -D -m "$1" "$2" "$DESTDIR$3"
  log "installed $DESTDIR$3"
}

put 0755 "$BIN" /usr/local/bin/ringd
put 0644 "$SRC/deploy/systemd/ringd.service" /etc/systemd/system/ringd.service
if [[ -e $DESTDIR/etc/ringd/ringd.json ]]; then
  log "kept $DESTDIR/etc/ringd/ringd.json (already there)"
else
  put 0644 "$SRC/deploy/systemd/ringd.json" /etc/ringd/ringd.json
fi
put 0644 "$SRC/README.md" /usr/local/share/doc/ringd/README.md

# The nginx files, as a tree render.sh can run from (it finds lua/ beside itself).
nginx_dest=/usr/local/share/ringd/nginx
while IFS= read -r -d '' f; do
  rel=${f#"$SRC/deploy/nginx/"}
  mode=0644
  [[ -x $f ]] && mode=0755
  install -D -m "$mode" "$f" "$DESTDIR$nginx_dest/$rel"
done < <(find "$SRC/deploy/nginx" -type f -print0 | sort -z)
log "installed $DESTDIR$nginx_dest/ (render.sh, nginx.conf.template, lua/)"

if [[ -n $DESTDIR ]]; then
  log "done; DESTDIR is set, so nothing was reloaded or started"
  exit 0
fi
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  log "ran systemctl daemon-reload"
fi
log "done; nothing was started. Next: edit /etc/ringd/ringd.json (node, bind, join, service),"
log "then: systemctl enable --now ringd"
