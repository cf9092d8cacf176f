#!/usr/bin/env bash
# A pod's network, the way Calico wires it: the pod is a network namespace with one veth,
# eth0, holding the pod's /32 address and a default route via 169.254.1.1 (onlink); the
# node's end of the veth has no address, answers ARP for everything (proxy_arp, no delay),
# and the node routes the pod's /32 to it.
#
#   pod.sh add [--node-netns NODE_NS] --pod-netns POD_NS --host-if IF --ip A.B.C.D
#   pod.sh del [--node-netns NODE_NS] --pod-netns POD_NS --host-if IF
#
# The pod namespace is created (and deleted) with `ip netns add/del`. On a lab VM, without
# --node-netns, the node is the VM itself (FERRY_PROVISION_HOST=1).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action="${1:-}"; shift || true
node_netns="" pod_netns="" host_if="" ip=""
while [ $# -gt 0 ]; do
  case "$1" in
    --node-netns) node_netns="$2"; shift 2;;
    --pod-netns) pod_netns="$2"; shift 2;;
    --host-if) host_if="$2"; shift 2;;
    --ip) ip="$2"; shift 2;;
    *) die "unknown argument '$1'";;
  esac
done
[ -n "$pod_netns" ] && [ -n "$host_if" ] || die "usage: pod.sh add|del [--node-netns NS] --pod-netns NS --host-if IF [--ip IP]"
check_ifname "$host_if"
need ip iproute2
set_target "$node_netns"

case "$action" in
  add)
    [ -n "$ip" ] || die "pod.sh add needs --ip"
    [ -e "$FERRY_NETNS_DIR/$pod_netns" ] || ip netns add "$pod_netns"
    nip link del "$host_if" 2>/dev/null || true
    nip link add "$host_if" type veth peer name eth0 netns "$pod_netns"
    ip -n "$pod_netns" link set lo up
    ip -n "$pod_netns" addr add "$ip/32" dev eth0
    ip -n "$pod_netns" link set eth0 up
    ip -n "$pod_netns" route add 169.254.1.1 dev eth0 scope link
    ip -n "$pod_netns" route add default via 169.254.1.1 dev eth0 onlink
    set_sysctl "net/ipv4/conf/$host_if/proxy_arp" 1
    set_sysctl "net/ipv4/neigh/$host_if/proxy_delay" 0
    set_sysctl "net/ipv4/conf/$host_if/rp_filter" 0
    nip link set "$host_if" up
    nip route replace "$ip/32" dev "$host_if" scope link
    ;;
  del)
    nip link del "$host_if" 2>/dev/null || true
    if [ -e "$FERRY_NETNS_DIR/$pod_netns" ]; then ip netns del "$pod_netns"; fi
    ;;
  *) die "first argument must be add or del";;
esac
