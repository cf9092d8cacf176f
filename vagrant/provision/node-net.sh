#!/usr/bin/env bash
# Node networking that a CNI (Calico-style, routed, no overlay) would do, on one lab node:
# forwarding on, rp_filter off (service traffic is asymmetric), a blackhole for the node's own
# pod CIDR (addresses of pods that do not exist go nowhere instead of back to the router),
# and routes to the other nodes' pod CIDRs through their node IPs.
# ferry0 and the dataplane's routing are not set up here: the agent does that itself.
#
#   node-net.sh [--netns NODE_NS] --pod-cidr CIDR [--route CIDR=VIA]...
#
# Run it again to converge (routes are replaced, not added twice).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

netns="" pod_cidr="" routes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns="$2"; shift 2;;
    --pod-cidr) pod_cidr="$2"; shift 2;;
    --route) routes+=("$2"); shift 2;;
    *) die "unknown argument '$1' (usage: node-net.sh [--netns NS] --pod-cidr CIDR [--route CIDR=VIA]...)";;
  esac
done
[ -n "$pod_cidr" ] || die "--pod-cidr is required"
need ip iproute2
set_target "$netns"

set_sysctl net/ipv4/ip_forward 1
set_sysctl net/ipv4/conf/all/rp_filter 0
set_sysctl net/ipv4/conf/default/rp_filter 0
nip route replace blackhole "$pod_cidr"
for r in "${routes[@]}"; do
  nip route replace "${r%%=*}" via "${r#*=}"
done
