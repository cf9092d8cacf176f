#!/usr/bin/env bash
# Ferry against the kernel through one ClusterIP, measured only with standard clients and
# servers (Debian's sockperf, iperf3, wrk and nginx), so that a reader can check `ferry bench
# lab`'s figures without Ferry's own load tools. Builds its own namespaces: a client pod and a
# server pod on one node, which forwards between their veths as a node routes pod to pod:
#
#   client pod 10.244.1.13 ── vc ── node 198.18.0.11 ── vs ── server pod 10.244.1.11
#                                   ClusterIP 10.96.100.20 → 10.244.1.11 (one endpoint)
#
# The ClusterIP is translated in turn by kube-proxy-shaped nftables rules (DNAT in the node,
# the baseline), by `ferry agent --port-type tun` and by `ferry agent --port-type packet`,
# in --rounds rounds, every other one in reverse order; each ratio is taken between figures
# of one round and the table gives the median over the rounds with the range. The loads:
#   UDP       iperf3 -u -b 0 -l 64: datagrams per second received by the server
#   bulk      iperf3 (TCP, one stream): Gbit/s received
#   latency   sockperf ping-pong over TCP: p50 and p99 of the round trip (µs)
#   RR        wrk -c 8 (keep-alive) against nginx: requests per second and p50 latency
#   CRR       wrk -c 16 -H 'Connection: close' against nginx: one new connection per request
# Removes everything at the end, also on failure or Ctrl-C. Nothing leaves the namespaces.
#
#   perf/baselines/standard-tools.sh [--seconds 5] [--rounds 3] [--out FILE.md]
#
# FERRY_AGENT_ARGS adds flags to both agents (FERRY_AGENT_ARGS='--idle-spin-us 0').
#
# Needs root, iproute2, nftables, sockperf, iperf3, wrk, nginx (apt-get install nftables
# sockperf iperf3 wrk nginx-light) and Ferry's launcher (./ferry, which builds the jar).
set -euo pipefail

seconds=5 rounds=3 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    --out) out="$2"; shift 2;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "standard-tools.sh: unknown argument '$1' (--help)" >&2; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "standard-tools.sh: needs root (it creates network namespaces)" >&2; exit 1; }
for tool in ip nft sockperf iperf3 wrk nginx python3; do
  command -v "$tool" >/dev/null || { echo "standard-tools.sh: $tool is missing (apt-get install nftables sockperf iperf3 wrk nginx-light)" >&2; exit 1; }
done
root="$(cd "$(dirname "$0")/../.." && pwd)"
ferry="$root/ferry"

p="ferry-tools-$$-"
cli="${p}client" node="${p}node" srv="${p}server"
work="$(mktemp -d /tmp/ferry-tools.XXXXXX)"
vip=10.96.100.20 pod_cli=10.244.1.13 pod_srv=10.244.1.11 node_ip=198.18.0.11
pids=() agent=""
cleanup() {
  stop_agent
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  for ns in "$cli" "$node" "$srv"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
stop_agent() {
  if [ -n "$agent" ]; then
    kill "$agent" 2>/dev/null || true
    wait "$agent" 2>/dev/null || true
    agent=""
    # a stopped agent leaves its routing for a successor: remove it, the next run starts clean
    ip netns exec "$node" "$ferry" agent --cleanup --run-dir "$work/agent/run" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT INT TERM

# ---- the node and its two pods (routes as a CNI like Calico sets them: /32 per pod, proxy ARP) ----
for ns in "$cli" "$node" "$srv"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$node" link add eth0 type veth peer name eth0p # the node's uplink, leading nowhere
ip -n "$node" addr add "$node_ip/24" dev eth0; ip -n "$node" link set eth0 up; ip -n "$node" link set eth0p up
ip -n "$node" route add default dev eth0
for pod in cli srv; do
  ns="${!pod}" veth="v${pod:0:1}" ip_var="pod_$pod"
  ip link add eth0 netns "$ns" type veth peer name "$veth" netns "$node"
  ip -n "$ns" addr add "${!ip_var}/32" dev eth0; ip -n "$ns" link set eth0 up
  ip -n "$ns" route add 169.254.1.1 dev eth0; ip -n "$ns" route add default via 169.254.1.1
  ip -n "$node" link set "$veth" up
  ip netns exec "$node" sysctl -qw "net.ipv4.conf.$veth.proxy_arp=1"
  ip -n "$node" route add "${!ip_var}/32" dev "$veth"
done
ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1

# ---- servers in the server pod ----
mkdir -p "$work/nginx" "$work/agent/manifests" "$work/agent/run" "$work/agent/state"
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 8080; location / { return 200 "ok\n"; } }
}
EOF
ip netns exec "$srv" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
ip netns exec "$srv" sockperf server --tcp -i "$pod_srv" -p 11111 >/dev/null 2>&1 & pids+=($!)
ip netns exec "$srv" iperf3 -s -p 5201 >/dev/null 2>&1 & pids+=($!)

# ---- the Service, once for Ferry (manifests) and once for the kernel (kube-proxy's nftables shape) ----
cat > "$work/agent/node.yaml" <<EOF
nodeName: node-1
nodeIPs: [$node_ip]
clusterCIDRs: [10.244.0.0/16]
podCIDR: 10.244.1.0/24
serviceCIDRs: [10.96.0.0/12]
EOF
cat > "$work/agent/manifests/tools.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: tools, namespace: default}
spec:
  clusterIP: $vip
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080}
  - {name: iperf-tcp, protocol: TCP, port: 5201}
  - {name: iperf-udp, protocol: UDP, port: 5201}
  - {name: sockperf, protocol: TCP, port: 11111}
---
apiVersion: v1
kind: Endpoints
metadata: {name: tools, namespace: default}
subsets:
- addresses: [{ip: $pod_srv, nodeName: node-1}]
  ports:
  - {name: http, protocol: TCP, port: 8080}
  - {name: iperf-tcp, protocol: TCP, port: 5201}
  - {name: iperf-udp, protocol: UDP, port: 5201}
  - {name: sockperf, protocol: TCP, port: 11111}
EOF
{
  cat <<EOF
table ip kube-proxy
delete table ip kube-proxy
table ip kube-proxy {
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { $vip . tcp . 80 : goto service-http, $vip . tcp . 5201 : goto service-iperf-tcp,
			     $vip . udp . 5201 : goto service-iperf-udp, $vip . tcp . 11111 : goto service-sockperf }
	}
	chain filter-forward {
		type filter hook forward priority -110; policy accept;
		ct state new jump cluster-ips-check
	}
	chain cluster-ips-check {
		ip daddr { 10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x4000
	}
	chain masquerading {
		meta mark & 0x4000 == 0 return
		meta mark set meta mark ^ 0x4000
		masquerade fully-random
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
EOF
  for spec in http:tcp:80:8080 iperf-tcp:tcp:5201:5201 iperf-udp:udp:5201:5201 sockperf:tcp:11111:11111; do
    IFS=: read -r name proto port target <<<"$spec"
    printf '\tchain service-%s {\n\t\tip daddr %s %s dport %s ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n\t\tgoto endpoint-%s\n\t}\n' \
      "$name" "$vip" "$proto" "$port" "$name"
    printf '\tchain endpoint-%s {\n\t\tip saddr %s jump mark-for-masquerade\n\t\tmeta l4proto %s dnat to %s:%s\n\t}\n' \
      "$name" "$pod_srv" "$proto" "$pod_srv" "$target"
  done
  echo "}"
} > "$work/kube-proxy.nft"

# ---- dataplanes ----
await_serving() { # until the client pod's TCP connection to the ClusterIP is answered
  local i
  for ((i = 0; i < 600; i++)); do
    ip netns exec "$cli" timeout 1 bash -c "</dev/tcp/$vip/80" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "standard-tools.sh: $vip:80 not served after 60 s (agent log: $work/agent.log)" >&2
  tail -20 "$work/agent.log" >&2 || true
  exit 1
}
start() {
  case "$1" in
    nftables) ip netns exec "$node" nft -f "$work/kube-proxy.nft";;
    ferry-tun|ferry-packet)
      ip netns exec "$node" "$ferry" agent --node-config "$work/agent/node.yaml" --manifests "$work/agent/manifests" \
        --port-type "${1#ferry-}" ${FERRY_AGENT_ARGS:-} --run-dir "$work/agent/run" --state-dir "$work/agent/state" >"$work/agent.log" 2>&1 &
      agent=$!;;
  esac
  await_serving
  sleep 2 # past the agent's start-up JIT
}
stop() {
  case "$1" in
    nftables) ip netns exec "$node" nft delete table ip kube-proxy;;
    *) stop_agent;;
  esac
}

# ---- loads: each prints one figure ----
json() { python3 -c "import json, sys; d = json.load(sys.stdin); $1"; }
udp() { ip netns exec "$cli" iperf3 -c "$vip" -p 5201 -u -b 0 -l 64 -t "$seconds" -J 2>/dev/null \
  | json 's = d["end"]["sum"]; print(int((s["packets"] - s["lost_packets"]) / s["seconds"]))'; }
bulk() { ip netns exec "$cli" iperf3 -c "$vip" -p 5201 -t "$seconds" -J 2>/dev/null \
  | json 'print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
pingpong() { ip netns exec "$cli" sockperf ping-pong --tcp -i "$vip" -p 11111 -t "$seconds" -m 64 2>&1 \
  | awk '/percentile 50.000/ {p50 = $NF} /percentile 99.000/ {p99 = $NF} END {print p50 "/" p99}'; }
wrk_run() { ip netns exec "$cli" wrk -t 1 -c "$1" -d "${seconds}s" --latency "${@:2}" "http://$vip/" 2>&1; }
rr() { wrk_run 8 | awk '/Requests\/sec/ {rps = int($2)} $1 == "50%" {p = $2} END {print rps "/" p}'; }
crr() { wrk_run 16 -H 'Connection: close' | awk '/Requests\/sec/ {print int($2)}'; }

dataplanes=(nftables ferry-tun ferry-packet)
results="$work/results.tsv"
: > "$results"
for ((r = 1; r <= rounds; r++)); do
  order=("${dataplanes[@]}")
  if ((r % 2 == 0)); then order=(ferry-packet ferry-tun nftables); fi
  for dp in "${order[@]}"; do
    start "$dp"
    line="$r	$dp	$(udp)	$(bulk)	$(pingpong)	$(rr)	$(crr)"
    echo "round $r, $dp: $line" | tr '\t' ' ' >&2
    echo "$line" >> "$results"
    stop "$dp"
  done
done

report="$(python3 - "$results" "$seconds" "$rounds" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
data = {}  # (round, dataplane) -> figures
for r, dp, udp, bulk, pp, rr, crr in rows:
    pp50, pp99 = pp.split("/")
    rps, p50 = rr.split("/")
    us = lambda t: float(t[:-2]) * 1000 if t.endswith("ms") else float(t[:-2]) if t.endswith("us") else float(t[:-1]) * 1e6
    data[(r, dp)] = {"udp": float(udp), "bulk": float(bulk), "pp50": float(pp50), "pp99": float(pp99),
                     "rps": float(rps), "rr50": us(p50), "crr": float(crr)}
rounds = sorted({r for r, _ in data})
cols = [("udp", "UDP datagrams/s (iperf3)"), ("bulk", "bulk Gbit/s (iperf3)"), ("pp50", "TCP ping-pong p50 µs (sockperf)"),
        ("pp99", "p99 µs"), ("rps", "RR req/s (wrk, nginx)"), ("rr50", "RR p50 µs (wrk)"), ("crr", "CRR conn/s (wrk, close)")]
def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"
print(f"Medians of {len(rounds)} rounds of {sys.argv[2]} s (range); × nftables is the median of the per-round ratios.\n")
print("| dataplane | " + " | ".join(c[1] for c in cols) + " |")
print("|---" + "|---:" * len(cols) + "|")
for dp in ["nftables", "ferry-tun", "ferry-packet"]:
    cells = []
    for key, _ in cols:
        vals = [data[(r, dp)][key] for r in rounds]
        cells.append(f"{fmt(statistics.median(vals))} ({fmt(min(vals))}-{fmt(max(vals))})")
    print(f"| {dp} | " + " | ".join(cells) + " |")
for dp in ["ferry-tun", "ferry-packet"]:
    cells = []
    for key, _ in cols:
        ratios = [data[(r, dp)][key] / data[(r, "nftables")][key] for r in rounds]
        cells.append(f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f})")
    print(f"| {dp} × nftables | " + " | ".join(cells) + " |")
EOF
)"
echo "$report"
if [ -n "$out" ]; then
  { echo "# Standard tools through one ClusterIP: Ferry against nftables"; echo
    echo "Machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Command: ${FERRY_AGENT_ARGS:+FERRY_AGENT_ARGS='$FERRY_AGENT_ARGS' }perf/baselines/standard-tools.sh --seconds $seconds --rounds $rounds"; echo
    echo "$report"; echo; echo "Raw (round, dataplane, UDP/s, Gbit/s, ping-pong p50/p99 µs, RR req/s / p50, CRR conn/s):"; echo
    sed 's/^/    /' "$results"; } > "$out"
  echo "wrote $out" >&2
fi
