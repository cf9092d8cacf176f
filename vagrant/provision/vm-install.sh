#!/usr/bin/env bash
# Every lab VM: installs a JDK 25 (Eclipse Temurin from Adoptium's apt repository; Debian 12
# has none), Maven and iproute2, builds Ferry from the checkout synced to /ferry, and installs
# it the way docs/OPERATIONS.md describes: /usr/lib/ferry/{ferry.jar,ferry}, /etc/default/ferry
# and the systemd unit ferry.service (not started here: vm-node.sh configures it first).
# Also /usr/lib/ferry/ferry-lab (the lab's pod servers and readiness controller) and the
# provisioning scripts under /usr/lib/ferry/provision. Runs as root; safe to run again.
set -euo pipefail
SRC=/ferry
LIB=/usr/lib/ferry
JDK=/usr/lib/jvm/temurin-25-jdk-amd64
export DEBIAN_FRONTEND=noninteractive

[ -d "$SRC/control" ] || { echo "vm-install.sh: no Ferry checkout at $SRC (the Vagrantfile syncs it there)" >&2; exit 1; }

apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates curl gnupg iproute2 util-linux maven >/dev/null
if [ ! -x "$JDK/bin/javac" ]; then
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://packages.adoptium.net/artifactory/api/gpg/key/public | gpg --dearmor --yes -o /etc/apt/keyrings/adoptium.gpg
  echo "deb [signed-by=/etc/apt/keyrings/adoptium.gpg] https://packages.adoptium.net/artifactory/deb $(. /etc/os-release && echo "$VERSION_CODENAME") main" \
    > /etc/apt/sources.list.d/adoptium.list
  apt-get update -qq
  apt-get install -y -qq temurin-25-jdk >/dev/null
fi

echo "building Ferry in $SRC (first run downloads the Maven dependencies)"
(cd "$SRC" && JAVA_HOME="$JDK" MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" mvn -B -q -DskipTests package)

DIST="$SRC/control/src/main/dist"
install -d -m 0755 "$LIB" "$LIB/provision" /etc/ferry /etc/ferry/manifests
install -m 0644 "$SRC/control/target/ferry.jar" "$LIB/ferry.jar"
install -m 0644 "$SRC/control/lab/target/ferry-lab.jar" "$LIB/ferry-lab.jar"
install -m 0755 "$DIST/ferry" "$LIB/ferry"
install -m 0644 "$DIST/jvm.options" "$LIB/jvm.options"
ln -sf "$LIB/ferry" /usr/local/bin/ferry
install -m 0644 "$SRC"/vagrant/provision/*.sh "$LIB/provision/"
[ -f /etc/default/ferry ] || install -m 0644 "$DIST/ferry.default" /etc/default/ferry
install -m 0644 "$DIST/ferry.service" /etc/systemd/system/ferry.service
install -d -m 0755 /etc/systemd/system/ferry.service.d
install -m 0644 "$DIST/packet-port.conf" /etc/systemd/system/ferry.service.d/packet-port.conf

# The lab's own helpers (pod servers, readiness controller) run `ferry lab` from the lab's jar
# (ferry.jar, what the unit runs, carries no lab).
cat > "$LIB/ferry-lab" <<LAB
#!/bin/sh
exec "$JDK/bin/java" "@$LIB/jvm.options" \\
  -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$LIB/ferry-lab.jar" dev.ferry.control.lab.LabCommand "\$@"
LAB
chmod 0755 "$LIB/ferry-lab"

cat > /etc/systemd/system/ferry-lab-pod@.service <<'UNIT'
# A lab pod's server (HTTP "pod=NAME client=IP:PORT", /healthz, UDP echo) in its namespace.
[Unit]
Description=Ferry lab pod %i
After=network-online.target
[Service]
ExecStart=/usr/sbin/ip netns exec ferry-lab-pod-%i /usr/lib/ferry/ferry-lab pod-server --name %i
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
