#!/usr/bin/env bash
# Checks Ferry's systemd unit with `systemd-analyze verify` (Debian's systemd package), alone
# and with the packet-port drop-in. systemd-analyze exits 0 on unknown keys and unparsable
# values and only prints them, so any line it prints about our files fails the check. Then
# `systemd-analyze security` scores the unit's exposure (printed; above MAX_EXPOSURE fails),
# and systemd-sysusers creates the unit's user from ferry.sysusers in a scratch root.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=control/src/main/dist
UNIT="$DIST/ferry.service"
DROPIN="$DIST/packet-port.conf"
SYSUSERS="$DIST/ferry.sysusers"
# The exposure (0 safest .. 10) measured when the unit got its own user: 3.8, 4.1 with the
# packet-port drop-in. A change that widens the sandbox has to raise these on purpose.
MAX_EXPOSURE=3.8
MAX_EXPOSURE_PACKET=4.1

if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "verify-systemd: systemd-analyze is missing and this is not root: apt-get install systemd" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi

# verify insists that ExecStart's program exists and is executable: put a stub there for the
# check when the real launcher is not installed, and take it away afterwards.
exec_path="$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT")"
work="$(mktemp -d)"
stub=""
cleanup() {
  rm -rf "$work"
  if [ -n "$stub" ]; then rm -f "$stub"; rmdir --ignore-fail-on-non-empty "$(dirname "$stub")" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [ ! -x "$exec_path" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "verify-systemd: $exec_path is missing and this is not root, so no stub can stand in for it" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$exec_path")"
  printf '#!/bin/sh\nexit 0\n' > "$exec_path"
  chmod 755 "$exec_path"
  stub="$exec_path"
fi

check() { # $1: what; the unit is in $work
  local out
  out="$(systemd-analyze verify --man=no "$work/ferry.service" 2>&1)" || { echo "$out" >&2; echo "verify-systemd: $1: FAILED" >&2; exit 1; }
  if printf '%s\n' "$out" | grep -q -e 'ferry' -e "$work"; then
    printf '%s\n' "$out" >&2
    echo "verify-systemd: $1: systemd-analyze complained (above)" >&2
    exit 1
  fi
  echo "verify-systemd: $1: ok"
}

exposure() { # $1: what, $2: the highest exposure allowed
  local out score
  out="$(systemd-analyze security --offline=yes --no-pager "$work/ferry.service" 2>&1)" || { echo "$out" >&2; exit 1; }
  score="$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for ferry.service: \([0-9.]*\).*/\1/p')"
  [ -n "$score" ] || { echo "$out" >&2; echo "verify-systemd: $1: no exposure score in the output above" >&2; exit 1; }
  if awk -v s="$score" -v m="$2" 'BEGIN { exit !(s > m) }'; then
    printf '%s\n' "$out" >&2
    echo "verify-systemd: $1: exposure $score is above $2" >&2
    exit 1
  fi
  echo "verify-systemd: $1: systemd-analyze security exposure $score (at most $2)"
}

cp "$UNIT" "$work/ferry.service"
check "ferry.service"
exposure "ferry.service" "$MAX_EXPOSURE"
mkdir "$work/ferry.service.d"
cp "$DROPIN" "$work/ferry.service.d/"
check "ferry.service with packet-port.conf"
exposure "ferry.service with packet-port.conf" "$MAX_EXPOSURE_PACKET"

# The user the unit runs as, created the way a package does it, in a scratch root.
mkdir -p "$work/root/etc"
systemd-sysusers --root="$work/root" "$(realpath "$SYSUSERS")" >/dev/null 2>&1 || { echo "verify-systemd: systemd-sysusers refused $SYSUSERS" >&2; exit 1; }
user="$(sed -n 's/^User=//p' "$UNIT")"
grep -q "^$user:x:[0-9]*:[0-9]*:" "$work/root/etc/passwd" || { echo "verify-systemd: $SYSUSERS does not create User=$user" >&2; exit 1; }
grep -q "^$user:x:[0-9]*:$" "$work/root/etc/group" || { echo "verify-systemd: $SYSUSERS does not create its group $user" >&2; exit 1; }
echo "verify-systemd: ferry.sysusers creates user and group $user"
