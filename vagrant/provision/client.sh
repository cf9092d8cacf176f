#!/usr/bin/env bash
# The external client: a network namespace behind the router on its own subnet, holding a
# primary address and, for "many clients", extra addresses that tests bind as sources.
#
#   client.sh add [--router-netns ROUTER_NS] --client-netns NS --router-if IF \
#             --gateway GW/PREFIX --ip A.B.C.D/PREFIX [--extra A.B.C.D/PREFIX]...
#   client.sh del [--router-netns ROUTER_NS] --client-netns NS --router-if IF
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action="${1:-}"; shift || true
router_netns="" client_netns="" router_if="" gateway="" ip="" extras=()
while [ $# -gt 0 ]; do
  case "$1" in
    --router-netns) router_netns="$2"; shift 2;;
    --client-netns) client_netns="$2"; shift 2;;
    --router-if) router_if="$2"; shift 2;;
    --gateway) gateway="$2"; shift 2;;
    --ip) ip="$2"; shift 2;;
    --extra) extras+=("$2"); shift 2;;
    *) die "unknown argument '$1'";;
  esac
done
[ -n "$client_netns" ] && [ -n "$router_if" ] || die "usage: client.sh add|del [--router-netns NS] --client-netns NS --router-if IF ..."
check_ifname "$router_if"
need ip iproute2
set_target "$router_netns"

case "$action" in
  add)
    [ -n "$gateway" ] && [ -n "$ip" ] || die "client.sh add needs --gateway and --ip"
    [ -e "$FERRY_NETNS_DIR/$client_netns" ] || ip netns add "$client_netns"
    nip link del "$router_if" 2>/dev/null || true
    nip link add "$router_if" type veth peer name eth0 netns "$client_netns"
    nip addr add "$gateway" dev "$router_if"
    nip link set "$router_if" up
    ip -n "$client_netns" link set lo up
    ip -n "$client_netns" addr add "$ip" dev eth0
    for a in "${extras[@]}"; do ip -n "$client_netns" addr add "$a" dev eth0; done
    ip -n "$client_netns" link set eth0 up
    ip -n "$client_netns" route add default via "${gateway%/*}"
    ;;
  del)
    nip link del "$router_if" 2>/dev/null || true
    if [ -e "$FERRY_NETNS_DIR/$client_netns" ]; then ip netns del "$client_netns"; fi
    ;;
  *) die "first argument must be add or del";;
esac
