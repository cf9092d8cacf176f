#!/usr/bin/env bash
# Checks the VM lab offline: `vagrant validate` of vagrant/Vagrantfile (Debian's vagrant
# package; no box is downloaded and no VM started) and a bash syntax check of every
# provisioning script.
#
# Providers: `vagrant validate` asks the default provider whether it is usable, and fails
# when it is not installed (VirtualBox: "Vagrant could not detect VirtualBox"). So the check
# that must pass everywhere runs with --ignore-provider, which validates everything but the
# provider blocks; when the vagrant-libvirt plugin is installed, the libvirt block is
# validated as well. The VirtualBox block can only be validated where VirtualBox is installed.
set -euo pipefail
cd "$(dirname "$0")/../vagrant"
command -v vagrant >/dev/null 2>&1 || { echo "vagrant-validate: vagrant is missing: apt-get install vagrant (or bash .ci/lab-deps.sh)" >&2; exit 1; }

for script in provision/*.sh; do
  bash -n "$script"
done
# The check leaves Vagrant's machine-state folder behind only if it was not there before.
had_state=no; [ -d .vagrant ] && had_state=yes
cleanup() { [ "$had_state" = yes ] || rm -rf .vagrant; }
trap cleanup EXIT

env -u VAGRANT_DEFAULT_PROVIDER vagrant validate --ignore-provider
if vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt'; then
  VAGRANT_DEFAULT_PROVIDER=libvirt vagrant validate
fi
echo "vagrant-validate: vagrant/Vagrantfile and provision/*.sh are valid"
