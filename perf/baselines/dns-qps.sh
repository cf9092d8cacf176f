#!/usr/bin/env bash
# Ferry's DNS server (`ferry agent --dns-address`) against two C DNS servers answering the same
# names from memory, measured with Debian's dnsperf. CoreDNS, the usual anchor for a cluster's
# DNS, is not packaged by Debian; dnsmasq (names from a hosts file) and unbound (local-data) are,
# and both answer from memory as CoreDNS's kubernetes plugin does from its cache, so they stand
# in for it. Everything runs in one network namespace of its own, on 127.0.0.1:
#
#   ferry agent (tun, manifests: N ClusterIP Services)   --dns-address 127.0.0.1:5301
#   dnsmasq --addn-hosts (the same N names)               127.0.0.1:5302
#   unbound, local-data (the same N names)                127.0.0.1:5303
#
# Each server in turn, --rounds rounds, every other one in reverse order: dnsperf -c 2 -q 20
# (20 queries outstanding) for --seconds, querying every name in turn (A records of
# svc-i.default.svc.cluster.local). The table gives each server's median queries per second over
# the rounds with the range, its ratio to dnsmasq's and unbound's from the same round, and
# dnsperf's average latency. Removes everything at the end, also on failure or Ctrl-C.
#
#   perf/baselines/dns-qps.sh [--services 1000] [--seconds 10] [--rounds 3] [--out FILE.md]
#
# Needs root, iproute2, dnsperf, dnsmasq-base, unbound (apt-get install dnsperf dnsmasq-base
# unbound) and Ferry's launcher (./ferry, which builds the jar).
set -euo pipefail

services=1000 seconds=10 rounds=3 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --services) services="$2"; shift 2;;
    --seconds) seconds="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    --out) out="$2"; shift 2;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "dns-qps.sh: unknown argument '$1' (--help)" >&2; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "dns-qps.sh: needs root (it creates a network namespace)" >&2; exit 1; }
for tool in ip dnsperf dnsmasq unbound python3; do
  command -v "$tool" >/dev/null || { echo "dns-qps.sh: $tool is missing (apt-get install dnsperf dnsmasq-base unbound)" >&2; exit 1; }
done
root="$(cd "$(dirname "$0")/../.." && pwd)"
ferry="$root/ferry"

ns="ferry-dns-$$"
work="$(mktemp -d /tmp/ferry-dns.XXXXXX)"
chmod 755 "$work" # unbound drops to its own user and reads its config here
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  ip netns exec "$ns" "$ferry" agent --cleanup --run-dir "$work/agent/run" >/dev/null 2>&1 || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth0p # the node's uplink: an address and a default route, leading nowhere
ip -n "$ns" link set eth0p up
ip -n "$ns" addr add 198.18.0.11/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" route add default dev eth0

# ---- the same N names for the three servers ----
mkdir -p "$work/agent/manifests" "$work/agent/run" "$work/agent/state"
cat > "$work/agent/node.yaml" <<EOF
nodeName: node-1
nodeIPs: [198.18.0.11]
clusterCIDRs: [10.244.0.0/16]
podCIDR: 10.244.1.0/24
serviceCIDRs: [10.96.0.0/12]
EOF
python3 - "$services" "$work" <<'EOF'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/agent/manifests/services.yaml", "w") as manifests, open(f"{work}/hosts", "w") as hosts, \
        open(f"{work}/unbound.conf", "w") as unbound, open(f"{work}/queries", "w") as queries:
    unbound.write(f"server:\n  interface: 127.0.0.1@5303\n  do-ip6: no\n  chroot: \"\"\n  username: \"\"\n  pidfile: \"\"\n"
                  f"  directory: \"{work}\"\n  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  use-syslog: no\n"
                  f"  logfile: \"\"\n  verbosity: 0\n  local-zone: \"cluster.local.\" static\n")
    for i in range(n):
        ip = f"10.96.{100 + i // 250}.{1 + i % 250}"
        name = f"svc-{i}.default.svc.cluster.local"
        manifests.write(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: default}}\n"
                        f"spec:\n  clusterIP: {ip}\n  ports: [{{name: http, protocol: TCP, port: 80}}]\n")
        hosts.write(f"{ip} {name}\n")
        unbound.write(f"  local-data: \"{name}. 5 IN A {ip}\"\n")
        queries.write(f"{name} A\n")
EOF

# ---- the servers ----
ip netns exec "$ns" "$ferry" agent --node-config "$work/agent/node.yaml" --manifests "$work/agent/manifests" \
  --dns-address 127.0.0.1:5301 --run-dir "$work/agent/run" --state-dir "$work/agent/state" >"$work/agent.log" 2>&1 &
pids+=($!)
ip netns exec "$ns" dnsmasq --keep-in-foreground --no-daemon --no-resolv --no-hosts --addn-hosts="$work/hosts" \
  --port 5302 --listen-address 127.0.0.1 --bind-interfaces --local-ttl 5 --pid-file= \
  --user=root --log-facility=- >"$work/dnsmasq.log" 2>&1 &
pids+=($!)
ip netns exec "$ns" unbound -d -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
pids+=($!)

last="svc-$((services - 1)).default.svc.cluster.local"
for port in 5301 5302 5303; do
  for ((i = 0; i < 300; i++)); do
    answer="$( (ip netns exec "$ns" dnsperf -s 127.0.0.1 -p "$port" -n 1 -d <(echo "$last A") 2>/dev/null || true) | awk '/Queries completed/ {print $3}')"
    [ "$answer" = "1" ] && break
    sleep 0.2
  done
  [ "$answer" = "1" ] || { echo "dns-qps.sh: nothing answers on 127.0.0.1:$port (logs in $work)" >&2; tail -5 "$work"/*.log >&2; exit 1; }
done
sleep 2 # past the agent's start-up JIT

# ---- rounds ----
declare -A qps lat
order=(ferry dnsmasq unbound)
port_of() { case "$1" in ferry) echo 5301;; dnsmasq) echo 5302;; unbound) echo 5303;; esac; }
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 0)); then run=(unbound dnsmasq ferry); else run=("${order[@]}"); fi
  for server in "${run[@]}"; do
    result="$(ip netns exec "$ns" dnsperf -s 127.0.0.1 -p "$(port_of "$server")" -d "$work/queries" -c 2 -q 20 -l "$seconds" 2>&1)"
    q="$(awk '/Queries per second/ {print $4}' <<<"$result")"
    l="$(awk '/Average Latency/ {print $4}' <<<"$result")"
    lost="$(awk '/Queries lost/ {print $3}' <<<"$result")"
    qps[$server,$r]="$q"; lat[$server,$r]="$l"
    echo "round $r: $server $q queries/s, average latency $l s, lost $lost" >&2
  done
done

# ---- report ----
report="$(python3 - "$rounds" "$services" "$seconds" <<EOF
import statistics, sys
rounds, services, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3]
qps = {$(for s in ferry dnsmasq unbound; do for ((r = 1; r <= rounds; r++)); do printf '("%s",%d): %s, ' "$s" "$r" "${qps[$s,$r]}"; done; done)}
lat = {$(for s in ferry dnsmasq unbound; do for ((r = 1; r <= rounds; r++)); do printf '("%s",%d): %s, ' "$s" "$r" "${lat[$s,$r]}"; done; done)}
def med(xs): return statistics.median(xs), min(xs), max(xs)
print(f"{services} names, dnsperf -c 2 -q 20 -l {seconds}, {rounds} rounds; median (range)\n")
print("| server | queries/s | x dnsmasq | x unbound | average latency ms |")
print("|---|---:|---:|---:|---:|")
for s in ("ferry", "dnsmasq", "unbound"):
    q = med([qps[(s, r)] for r in range(1, rounds + 1)])
    xd = med([qps[(s, r)] / qps[("dnsmasq", r)] for r in range(1, rounds + 1)])
    xu = med([qps[(s, r)] / qps[("unbound", r)] for r in range(1, rounds + 1)])
    l = med([lat[(s, r)] * 1000 for r in range(1, rounds + 1)])
    print(f"| {s} | {q[0]:,.0f} ({q[1]:,.0f}-{q[2]:,.0f}) | {xd[0]:.2f} ({xd[1]:.2f}-{xd[2]:.2f}) | {xu[0]:.2f} ({xu[1]:.2f}-{xu[2]:.2f}) | {l[0]:.3f} ({l[1]:.3f}-{l[2]:.3f}) |")
EOF
)"
echo "$report"
if [ -n "$out" ]; then
  { echo "# DNS queries per second: Ferry against dnsmasq and unbound"; echo; echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)"; echo; echo "$report"; } > "$out"
fi
