#!/usr/bin/env bash
# A worker VM of the lab: node networking and this node's pods through the shared scripts
# (node-net.sh, pod.sh, run in host mode by `ferry lab vm-node`), node.yaml and manifests in
# /etc/ferry, then the pod servers, the readiness controller and the ferry agent as systemd
# units. Runs as root after vm-install.sh.
#
#   vm-node.sh --node node-K --nodes N --port-type tun|packet --control CONTROL_IP
set -euo pipefail
node="" nodes=2 port_type=tun control=""
while [ $# -gt 0 ]; do
  case "$1" in
    --node) node="$2"; shift 2;;
    --nodes) nodes="$2"; shift 2;;
    --port-type) port_type="$2"; shift 2;;
    --control) control="$2"; shift 2;;
    *) echo "vm-node.sh: unknown argument $1" >&2; exit 2;;
  esac
done
[ -n "$node" ] && [ -n "$control" ] || { echo "vm-node.sh: --node and --control are required" >&2; exit 2; }
LIB=/usr/lib/ferry

systemctl stop ferry.service 'ferry-lab-pod@*' ferry-lab-readiness.service 2>/dev/null || true
pods=$(FERRY_PROVISION_HOST=1 "$LIB/ferry-lab" vm-node --node "$node" --nodes "$nodes" --port-type "$port_type" \
  --control "$control" --scripts "$LIB/provision" --etc /etc/ferry)

cat > /etc/systemd/system/ferry-lab-readiness.service <<UNIT
# The lab's readiness controller: probes every pod's /healthz over the network and rewrites
# its manifest's Ready condition in /etc/ferry/manifests, which the agent watches.
[Unit]
Description=Ferry lab readiness controller
After=network-online.target
[Service]
ExecStart=$LIB/ferry-lab controller --manifests /etc/ferry/manifests --nodes $nodes
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
sed -i "s/^FERRY_AGENT_ARGS=.*/FERRY_AGENT_ARGS=\"--port-type $port_type\"/" /etc/default/ferry
systemctl daemon-reload
for pod in $pods; do systemctl enable --now "ferry-lab-pod@$pod.service"; done
systemctl enable --now ferry-lab-readiness.service
systemctl enable --now ferry.service
echo "$node: pods $(echo $pods), agent $(systemctl is-active ferry.service)"
