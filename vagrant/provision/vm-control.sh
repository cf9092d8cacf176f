#!/usr/bin/env bash
# The control VM of the lab: the router (router.sh in host mode: forwarding, routes to each
# worker's pod CIDR, ECMP for the service CIDR and the LoadBalancer pool), the external
# client namespace behind it (client.sh), and the off-cluster server on 198.18.2.10:8080.
# Runs as root after vm-install.sh.
#
#   vm-control.sh --workers IP1,IP2,...   (worker K, in this order, has pod CIDR 10.244.K.0/24)
set -euo pipefail
workers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers="$2"; shift 2;;
    *) echo "vm-control.sh: unknown argument $1" >&2; exit 2;;
  esac
done
[ -n "$workers" ] || { echo "vm-control.sh: --workers is required" >&2; exit 2; }
LIB=/usr/lib/ferry
export FERRY_PROVISION_HOST=1

args=(--local 198.18.2.10/32 --ecmp "10.96.0.0/12=$workers" --ecmp "198.18.100.0/24=$workers")
k=1
IFS=, read -r -a ips <<< "$workers"
for ip in "${ips[@]}"; do args+=(--route "10.244.$k.0/24=$ip"); k=$((k + 1)); done
bash "$LIB/provision/router.sh" "${args[@]}"

extras=()
for i in $(seq 11 30); do extras+=(--extra "198.18.1.$i/24"); done
bash "$LIB/provision/client.sh" del --client-netns ferry-lab-client --router-if client
bash "$LIB/provision/client.sh" add --client-netns ferry-lab-client --router-if client \
  --gateway 198.18.1.1/24 --ip 198.18.1.10/24 "${extras[@]}"

cat > /etc/systemd/system/ferry-lab-external.service <<'UNIT'
# The lab's off-cluster server (the selector-less Service's endpoint), on 198.18.2.10:8080.
[Unit]
Description=Ferry lab off-cluster server
After=network-online.target
[Service]
ExecStart=/usr/lib/ferry/ferry-lab pod-server --name external
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now ferry-lab-external.service
echo "control: router for $workers, client namespace ferry-lab-client (198.18.1.10), external server 198.18.2.10:8080"
