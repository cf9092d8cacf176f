#!/usr/bin/env bash
# The router between the node network and the outside: forwarding on, rp_filter off, routes
# to each node's pod CIDR through that node (as a BGP-peered Calico would announce them),
# and ECMP routes (one next hop per node) for the service CIDR and the LoadBalancer pool.
# ECMP hashes on source and destination address (fib_multipath_hash_policy 0), so one client
# address always lands on the same node: ClientIP affinity holds through the router.
# --local ADDR/32 adds an address on the router's loopback: the lab's off-cluster server.
#
#   router.sh [--netns ROUTER_NS] [--route CIDR=VIA]... [--ecmp CIDR=VIA,VIA...]... [--local ADDR/32]...
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

netns="" routes=() ecmps=() locals=()
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns="$2"; shift 2;;
    --route) routes+=("$2"); shift 2;;
    --ecmp) ecmps+=("$2"); shift 2;;
    --local) locals+=("$2"); shift 2;;
    *) die "unknown argument '$1'";;
  esac
done
need ip iproute2
set_target "$netns"

set_sysctl net/ipv4/ip_forward 1
set_sysctl net/ipv4/conf/all/rp_filter 0
set_sysctl net/ipv4/conf/default/rp_filter 0
set_sysctl net/ipv4/fib_multipath_hash_policy 0
nip link set lo up
for a in "${locals[@]}"; do
  nip addr replace "$a" dev lo
done
for r in "${routes[@]}"; do
  nip route replace "${r%%=*}" via "${r#*=}"
done
for e in "${ecmps[@]}"; do
  hops=()
  IFS=, read -r -a vias <<< "${e#*=}"
  for v in "${vias[@]}"; do hops+=(nexthop via "$v"); done
  nip route replace "${e%%=*}" "${hops[@]}"
done
