#!/usr/bin/env bash
# Checks the Debian package without installing it: its control fields and file list, then, from
# the tree `dpkg-deb -x` unpacks, the launcher on the bundled runtime (ferry --version, a help
# page, a trace of the example manifests, which loads YAML, the service table and the router),
# and that its unit is the one .ci/verify-systemd.sh checks.
#   verify-deb.sh DEB REPO_ROOT
set -euo pipefail
deb="$1"
repo="$2"
die() { echo "verify-deb: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (Debian's dpkg package)"
[ -f "$deb" ] || die "no package at $deb"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dpkg-deb --info "$deb" > "$work/info"
grep -q "Package: ferry" "$work/info" || die "no Package: ferry in the control file"
dpkg-deb --contents "$deb" > "$work/contents"
for path in ./usr/lib/ferry/ferry ./usr/lib/ferry/ferry.jar ./usr/lib/ferry/jvm.options ./usr/lib/ferry/runtime/bin/java ./usr/bin/ferry \
            ./usr/lib/systemd/system/ferry.service ./usr/lib/sysusers.d/ferry.conf ./etc/default/ferry ./etc/ferry/node.yaml \
            ./etc/ferry/manifests/; do
  grep -q " $path\( \|$\)" "$work/contents" || die "the package lacks $path"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -t > "$work/control-files"
grep -q conffiles "$work/control-files" || die "no conffiles (/etc/default/ferry, /etc/ferry/node.yaml)"

root="$work/root"
dpkg-deb -x "$deb" "$root"
ferry="$root/usr/lib/ferry/ferry"
# only the bundled runtime: no JAVA_HOME, no java on the PATH
version="$(env -i PATH=/usr/bin:/bin "$ferry" --version 2>&1)" || die "ferry --version failed: $version"
[[ "$version" == ferry\ * ]] || die "ferry --version said: $version"
env -i PATH=/usr/bin:/bin "$ferry" agent --help > /dev/null 2>&1 || die "ferry agent --help failed"
trace="$(env -i PATH=/usr/bin:/bin "$ferry" trace --node-config "$repo/docs/examples/node.yaml" \
  --manifests "$repo/docs/examples/manifests" --flows "$repo/docs/examples/flows.jsonl" 2>&1)" || die "ferry trace failed: $trace"
grep -q "DNAT" <<< "$trace" || die "ferry trace of the examples shows no DNAT: $trace"

# the start-up cache as postinst records it, on the bundled runtime: recorded, then used
# (AOTMode=on makes a JVM that cannot use it fail instead of starting without it)
cache="$work/ferry.aot"
aot="$(env -i PATH=/usr/bin:/bin FERRY_AOT_CACHE="$cache" "$ferry" aot-training --services 500 --changes 4 2>&1)" \
  || die "ferry aot-training failed: $aot"
[ -s "$cache" ] || die "ferry aot-training recorded no cache: $aot"
used="$(env -i PATH=/usr/bin:/bin FERRY_AOT_CACHE="$cache" FERRY_JAVA_OPTS='-XX:AOTMode=on -Xlog:class+load=info' \
  "$ferry" --version 2>&1)" || die "the bundled runtime cannot start from the cache it recorded: $(tail -5 <<< "$used")"
# an application class that came from a shared archive can only have come from this cache
grep -q "dev.ferry.control.cli.FerryCli source: shared" <<< "$used" \
  || die "the launcher did not start from the cache: $(grep FerryCli <<< "$used")"
dpkg-deb -e "$deb" "$work/control"
grep -q "/usr/lib/ferry/ferry aot-training" "$work/control/postinst" || die "postinst does not record the start-up cache"
grep -q "/var/cache/ferry/ferry.aot" "$work/control/postrm" || die "postrm does not remove the start-up cache"

cmp -s "$root/usr/lib/systemd/system/ferry.service" "$repo/control/src/main/dist/ferry.service" \
  || die "the packaged unit differs from control/src/main/dist/ferry.service, which .ci/verify-systemd.sh checks"
echo "verify-deb: $(basename "$deb") ($(du -h "$deb" | cut -f1)): control, files, conffiles; $version on the bundled runtime, agent --help, trace of the examples, the start-up cache recorded and used; the checked unit: ok"
