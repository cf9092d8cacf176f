# shellcheck shell=bash
# Shared by the provisioning scripts of both labs (the netns lab and the Vagrant VMs).
#
# Every script configures one "machine" of the lab: a node, the router, a pod. In the netns
# lab a machine is a network namespace, named with --netns NAME, and every command goes
# through `ip -n NAME` or `ip netns exec NAME`: the scripts never touch the namespace they
# were started in. On a lab VM the machine is the VM itself, and the caller must say so with
# FERRY_PROVISION_HOST=1; without either, the scripts refuse to run, so that nobody
# reconfigures a laptop's own network by accident.
set -euo pipefail

FERRY_NETNS_DIR=/var/run/netns
target_netns=""

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

need() { # need TOOL DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: install it with 'apt-get install $2'"
}

# set_target NAME: later commands act inside network namespace NAME ("" = this machine).
set_target() {
  target_netns="$1"
  if [ -n "$target_netns" ]; then
    [ -e "$FERRY_NETNS_DIR/$target_netns" ] || die "network namespace '$target_netns' does not exist (ip netns list)"
  elif [ "${FERRY_PROVISION_HOST:-}" != 1 ]; then
    die "refusing to configure this machine's own network: pass --netns NAME (netns lab) or set FERRY_PROVISION_HOST=1 (on a lab VM)"
  fi
}

# nip ARGS...: `ip` on the target machine.
nip() {
  if [ -n "$target_netns" ]; then ip -n "$target_netns" "$@"; else ip "$@"; fi
}

# in_target CMD...: a command on the target machine.
in_target() {
  if [ -n "$target_netns" ]; then ip netns exec "$target_netns" "$@"; else "$@"; fi
}

# set_sysctl KEY VALUE: KEY as a /proc/sys path (net/ipv4/ip_forward). net.* sysctls are per
# network namespace, so in the netns lab this changes the target namespace only.
set_sysctl() {
  case "$1" in *..*|/*) die "bad sysctl path $1";; esac
  in_target sh -c "echo '$2' > '/proc/sys/$1'"
}

# check_ifname NAME: Linux interface names have at most 15 characters.
check_ifname() {
  [ "${#1}" -le 15 ] || die "interface name '$1' is longer than 15 characters"
}
