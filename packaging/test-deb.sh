#!/usr/bin/env bash
# Install the Debian package in a throwaway copy of this machine and check it: in a
# private mount namespace, /usr, /etc and /var are overlays on a tmpfs (like the e2e
# test hosts: nothing reaches the machine) and /run is empty; there `dpkg -i`, then
# `firstboot --version` (the package's version), `man 8 firstboot`, the unit (runs
# `firstboot run --once-per-instance`, enabled, passes `systemd-analyze verify`), bash
# completion loading, the zsh and fish files, no conffiles; then `dpkg --purge` leaves
# no binary, man page or enablement. Last, the machine itself has no trace of it.
#
#   sudo bash packaging/test-deb.sh              build (packaging/build-deb.sh), then test
#   sudo bash packaging/test-deb.sh FILE.deb     test that package
#
# As root, on Debian 12 (man-db and systemd's tools installed). Prints one line per
# check and exits non-zero at the first failure. Not part of .ci/run: from a clean
# checkout on 2 cores, installing cargo-deb (2 min) and the release build (5 min) take
# about 7 minutes; with a warm target/, about 2.
set -euo pipefail
cd "$(dirname "$0")/.."
((EUID == 0)) || { echo "test-deb: run as root" >&2; exit 2; }
deb=${1:-}
if [[ -z "$deb" ]]; then
  deb=$(bash packaging/build-deb.sh | tail -n 1)
fi
[[ -f "$deb" ]] || { echo "test-deb: no package at $deb" >&2; exit 2; }
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
machine_had=$(dpkg-query -W -f '${Status}' firstboot 2>/dev/null || true)
echo "test-deb: $deb ($version)"

work=$(mktemp -d /tmp/fb-test-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
unshare --mount --propagation private -- bash -s "$deb" "$version" "$work" <<'EOF'
set -euo pipefail
deb=$1 version=$2 work=$3
mount -t tmpfs fb-test-deb "$work"
cp "$deb" "$work/firstboot.deb"
for d in usr etc var; do
  mkdir -p "$work/upper/$d" "$work/work/$d"
  mount -t overlay "fb-test-deb-$d" -o "lowerdir=/$d,upperdir=$work/upper/$d,workdir=$work/work/$d" "/$d"
done
mount -t tmpfs fb-test-deb-run /run
fail() { echo "FAIL $*" >&2; exit 1; }
pass() { echo "ok   $*"; }

out=$(dpkg -i "$work/firstboot.deb" 2>&1) || fail "dpkg -i: $out"
pass "dpkg -i"
out=$(/usr/bin/firstboot --version) || fail "firstboot --version"
[[ "$out" == "firstboot ${version%-*}" ]] || fail "firstboot --version says '$out', the package is $version"
pass "firstboot --version: $out"
out=$(MANPAGER=cat MANWIDTH=80 man 8 firstboot 2>&1) || fail "man 8 firstboot: $out"
grep -Eq '^ +firstboot +- +firstboot +turns' <<<"$out" && grep -q -- '--root' <<<"$out" ||
  fail "man 8 firstboot: no NAME line or no --root in: $(head -n 12 <<<"$out")"
pass "man 8 firstboot"
grep -qx 'ExecStart=/usr/bin/firstboot run --once-per-instance' /usr/lib/systemd/system/firstboot.service ||
  fail "the unit's ExecStart"
[[ -L /etc/systemd/system/multi-user.target.wants/firstboot.service ]] || fail "the unit is not enabled"
out=$(systemd-analyze verify /usr/lib/systemd/system/firstboot.service 2>&1) || fail "systemd-analyze verify: $out"
pass "unit installed, enabled, verified"
out=$(bash -c '. /usr/share/bash-completion/completions/firstboot && complete -p firstboot' 2>&1) ||
  fail "bash completion: $out"
[[ -s /usr/share/zsh/vendor-completions/_firstboot ]] || fail "no zsh completion"
[[ -s /usr/share/fish/vendor_completions.d/firstboot.fish ]] || fail "no fish completion"
pass "completions (bash loads: $out)"
out=$(dpkg-query -W -f '${Conffiles}' firstboot)
[[ -z "$out" ]] || fail "conffiles: $out"
pass "no conffiles"
out=$(dpkg --purge firstboot 2>&1) || fail "dpkg --purge: $out"
for f in /usr/bin/firstboot /usr/share/man/man8/firstboot.8.gz \
  /usr/lib/systemd/system/firstboot.service /etc/systemd/system/multi-user.target.wants/firstboot.service; do
  [[ ! -e "$f" && ! -L "$f" ]] || fail "$f left after dpkg --purge"
done
pass "dpkg --purge removes it all"
EOF
[[ "$(dpkg-query -W -f '${Status}' firstboot 2>/dev/null || true)" == "$machine_had" ]] ||
  { echo "FAIL the machine's package database changed" >&2; exit 1; }
echo "ok   the machine is untouched"
echo "test-deb: passed"
