#!/usr/bin/env bash
# The kernel baselines of `ferry bench lab`: loads, changes or removes kube-proxy-shaped rule
# sets (made by `ferry bench rules`, or the one-service examples beside this script) inside ONE
# network namespace. Every command needs --netns: nftables and iptables rules in a namespace
# affect only that namespace, and this script never touches the root namespace's.
#
#   baseline.sh load   --netns NS --mode nftables|iptables --file RULES   full load (nft -f / iptables-restore)
#   baseline.sh change --netns NS --mode nftables|iptables --file DELTA   incremental (nft -f / iptables-restore --noflush)
#   baseline.sh flush  --netns NS                                        remove every rule in NS (nft flush ruleset)
#
# Prints elapsed_ms=N: the time of the nft / iptables-restore command alone.
set -euo pipefail

die() { echo "baseline.sh: $*" >&2; exit 1; }

action="${1:-}"; shift || true
netns="" mode="" file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns="$2"; shift 2;;
    --mode) mode="$2"; shift 2;;
    --file) file="$2"; shift 2;;
    *) die "unknown argument '$1'";;
  esac
done
[ -n "$netns" ] || die "--netns NS is required: the baselines run only inside a lab namespace"
[ -e "/var/run/netns/$netns" ] || die "no network namespace '$netns' (ip netns list)"
in_ns() { ip netns exec "$netns" "$@"; }

timed() { # runs "$@" in the namespace and prints its wall time in ms
  local start end
  start=$(date +%s%N)
  in_ns "$@"
  end=$(date +%s%N)
  echo "elapsed_ms=$(( (end - start) / 1000000 ))"
}

case "$action" in
  load|change)
    [ -f "$file" ] || die "--file RULES is required and must exist"
    case "$mode" in
      nftables) command -v nft >/dev/null || die "nft missing: apt-get install nftables"
                timed nft -f "$file";;
      iptables) command -v iptables-restore >/dev/null || die "iptables-restore missing: apt-get install iptables"
                if [ "$action" = change ]; then timed iptables-restore --noflush "$file"; else timed iptables-restore "$file"; fi;;
      *) die "--mode is nftables or iptables";;
    esac
    ;;
  flush)
    # iptables-nft keeps its tables in nftables: one flush removes both kinds, so the kernel's
    # conntrack and NAT hooks leave the namespace's path too.
    if command -v iptables-restore >/dev/null; then
      printf '*nat\nCOMMIT\n*filter\nCOMMIT\n' | in_ns iptables-restore || true
    fi
    if command -v nft >/dev/null; then in_ns nft flush ruleset; fi
    ;;
  *) die "usage: baseline.sh load|change|flush --netns NS [--mode nftables|iptables --file RULES]";;
esac
