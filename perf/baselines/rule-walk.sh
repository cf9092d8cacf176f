#!/usr/bin/env bash
# What the kernel's linear walk of policy rules costs a routed packet, the number behind
# HostRouting.DEFAULT_MAX_REPLY_RANGES. Builds its own three namespaces (client, node, server:
# the node forwards between two veths, as a node routes pod to pod), then for each rule count
# installs that many rules of the shapes Ferry's reply steering uses, half
# "from CLIENT_NET ipproto udp sport P lookup 200" and half "to CLIENT_NET ipproto udp sport P
# lookup 200", in the node: the measured UDP traffic matches their addresses and protocol and
# fails only on the port (the worst case: every selector is checked), TCP fails on the protocol.
# Then it measures with the standard tools:
#   - sockperf UDP ping-pong latency (each round trip is routed twice by the node)
#   - iperf3 UDP 64-byte datagram rate and TCP bulk throughput
# Removes everything at the end, also on failure or Ctrl-C. Nothing leaves the namespaces.
#
#   perf/baselines/rule-walk.sh [--counts "0 6 50 100 200 500"] [--seconds 5] [--repeat 3]
#
# Needs root, iproute2, sockperf and iperf3 (apt-get install sockperf iperf3).
set -euo pipefail

counts="0 6 50 100 200 500" seconds=5 repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --counts) counts="$2"; shift 2;;
    --seconds) seconds="$2"; shift 2;;
    --repeat) repeat="$2"; shift 2;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "rule-walk.sh: unknown argument '$1' (--help)" >&2; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "rule-walk.sh: needs root (it creates network namespaces)" >&2; exit 1; }
for tool in ip sockperf iperf3 python3; do
  command -v "$tool" >/dev/null || { echo "rule-walk.sh: $tool is missing (apt-get install ${tool/ip/iproute2})" >&2; exit 1; }
done

p="ferry-rulewalk-$$-"
cli="${p}client" node="${p}node" srv="${p}server"
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for ns in "$cli" "$node" "$srv"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

for ns in "$cli" "$node" "$srv"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add eth0 netns "$cli" type veth peer name vc netns "$node"
ip link add eth0 netns "$srv" type veth peer name vs netns "$node"
ip -n "$cli" addr add 10.250.1.2/24 dev eth0; ip -n "$cli" link set eth0 up
ip -n "$srv" addr add 10.250.2.2/24 dev eth0; ip -n "$srv" link set eth0 up
ip -n "$node" addr add 10.250.1.1/24 dev vc; ip -n "$node" link set vc up
ip -n "$node" addr add 10.250.2.1/24 dev vs; ip -n "$node" link set vs up
ip -n "$cli" route add default via 10.250.1.1
ip -n "$srv" route add default via 10.250.2.1
ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1

ip netns exec "$srv" sockperf server -i 10.250.2.2 -p 11111 >/dev/null 2>&1 & pids+=($!)
ip netns exec "$srv" iperf3 -s -B 10.250.2.2 -p 5201 >/dev/null 2>&1 & pids+=($!)
sleep 1

set_rules() { # replaces the node's test rules with $1 of them
  ip -n "$node" rule show | awk -F: '$1 == 20 {print}' | while read -r _; do ip -n "$node" rule del pref 20; done
  ip -n "$node" rule show | awk -F: '$1 == 21 {print}' | while read -r _; do ip -n "$node" rule del pref 21; done
  local i
  for ((i = 0; i < $1; i++)); do
    if ((i % 2 == 0)); then
      echo "rule add pref 20 from 10.250.1.0/24 ipproto udp sport $((1000 + i)) lookup 200"
    else
      echo "rule add pref 21 to 10.250.1.0/24 ipproto udp sport $((1000 + i)) lookup 200"
    fi
  done | ip -n "$node" -batch -
}

json() { python3 -c "import json, sys; d = json.load(sys.stdin); $1"; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

echo "rules | sockperf UDP ping-pong p50 µs (median of $repeat, spread) | iperf3 UDP 64 B datagrams/s | iperf3 TCP Gbit/s"
for n in $counts; do
  set_rules "$n"
  lat=() pps=() bulk=()
  for ((r = 0; r < repeat; r++)); do
    lat+=("$(ip netns exec "$cli" sockperf ping-pong -i 10.250.2.2 -p 11111 -t "$seconds" -m 64 2>&1 \
      | awk '/percentile 50.000/ {print $NF}')")
    pps+=("$(ip netns exec "$cli" iperf3 -c 10.250.2.2 -p 5201 -u -b 0 -l 64 -t "$seconds" -J 2>/dev/null | json \
      's = d["end"]["sum"]; print(int((s["packets"] - s["lost_packets"]) / s["seconds"]))')")
    bulk+=("$(ip netns exec "$cli" iperf3 -c 10.250.2.2 -p 5201 -t "$seconds" -J 2>/dev/null | json \
      'print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))')")
  done
  printf '%s | %s (%s) | %s (%s) | %s (%s)\n' "$n" \
    "$(printf '%s\n' "${lat[@]}" | median)" "$(printf '%s ' "${lat[@]}")" \
    "$(printf '%s\n' "${pps[@]}" | median)" "$(printf '%s ' "${pps[@]}")" \
    "$(printf '%s\n' "${bulk[@]}" | median)" "$(printf '%s ' "${bulk[@]}")"
done
