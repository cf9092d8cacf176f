#!/usr/bin/env bash
# Installs the Debian packages the lab and its tests need, when missing: iproute2 (ip, the
# namespaces), util-linux (setsid), procps, curl (the demo's client), and vagrant (for
# `vagrant validate` of vagrant/Vagrantfile). Without its recommended vagrant-libvirt: the
# validation must not depend on a provider. Run as root (CI is).
set -euo pipefail

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v vagrant >/dev/null 2>&1 || need+=(vagrant)
[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "lab-deps: these packages are missing and this is not root: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "lab-deps: installing ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
