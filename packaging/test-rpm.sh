#!/usr/bin/env bash
# Check the RPM package with rpm itself (Debian's `rpm` package, installed when
# missing) and install it in a throwaway copy of this machine: in a private mount
# namespace /usr, /etc and /var are overlays on a tmpfs (as in test-deb.sh and the e2e
# hosts), so rpm's database and the files it installs never reach the machine. There:
# the package's digests verify, it is named firstboot at Cargo.toml's version, it
# requires the C library, it holds the binary, unit, man page, completions and docs;
# `rpm -i` installs them (scriptlets run: the unit gets enabled), `firstboot --version`
# is the package's version, the man page formats, the unit runs `firstboot run
# --once-per-instance`; `rpm -e` disables the unit and removes every file it installed.
#
#   sudo bash packaging/test-rpm.sh              build (packaging/build-rpm.sh), then test
#   sudo bash packaging/test-rpm.sh FILE.rpm     test that package
#
# As root, on Debian 12. Prints one line per check and exits non-zero at the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
((EUID == 0)) || { echo "test-rpm: run as root" >&2; exit 2; }
if ! command -v rpm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 && apt-get install -y -q --no-install-recommends rpm >&2
fi
pkg=${1:-}
if [[ -z "$pkg" ]]; then
  pkg=$(bash packaging/build-rpm.sh | tail -n 1)
fi
[[ -f "$pkg" ]] || { echo "test-rpm: no package at $pkg" >&2; exit 2; }
pkg=$(realpath "$pkg")
want_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
echo "test-rpm: $pkg"

work=$(mktemp -d /tmp/fb-test-rpm.XXXXXX)
trap 'rm -rf "$work"' EXIT
unshare --mount --propagation private -- bash -s "$pkg" "$want_version" "$work" <<'INNER'
set -euo pipefail
pkg=$1 want_version=$2 work=$3
mount -t tmpfs fb-test-rpm "$work"
cp "$pkg" "$work/firstboot.rpm"
pkg=$work/firstboot.rpm
for d in usr etc var; do
  mkdir -p "$work/upper/$d" "$work/work/$d"
  mount -t overlay "fb-test-rpm-$d" -o "lowerdir=/$d,upperdir=$work/upper/$d,workdir=$work/work/$d" "/$d"
done
mount -t tmpfs fb-test-rpm-run /run
fail() { echo "FAIL $*" >&2; exit 1; }
pass() { echo "ok   $*"; }
# Debian's rpm keeps its database in ~/.rpmdb: name one inside the overlay instead.
mkdir -p /var/lib/rpm
rpm() { command rpm --dbpath /var/lib/rpm "$@"; }

out=$(rpm -K --nosignature "$pkg" 2>&1) || fail "rpm -K: $out"
pass "digests: ${out##*: }"
nv=$(rpm -qp --qf '%{NAME} %{VERSION}' "$pkg")
[[ "$nv" == "firstboot $want_version" ]] || fail "name and version are '$nv', want 'firstboot $want_version'"
pass "name and version: $nv"
out=$(rpm -qp --requires "$pkg")
grep -q '^libc\.so\.6' <<<"$out" || fail "requires no libc.so.6: $out"
pass "requires libc.so.6 ($(wc -l <<<"$out") requirements, found from the binary)"
files=$(rpm -qlp "$pkg")
for f in /usr/bin/firstboot /usr/lib/systemd/system/firstboot.service \
  /usr/share/man/man8/firstboot.8 /usr/share/bash-completion/completions/firstboot \
  /usr/share/zsh/site-functions/_firstboot /usr/share/fish/vendor_completions.d/firstboot.fish \
  /usr/share/doc/firstboot/examples/config.yaml /usr/share/doc/firstboot/examples/user-data.yaml \
  /usr/share/doc/firstboot/README.md /usr/share/doc/firstboot/guide.md; do
  grep -qx "$f" <<<"$files" || fail "$f not in the package"
done
! grep -q '^/etc/' <<<"$files" || fail "the package ships files under /etc: $(grep '^/etc/' <<<"$files")"
pass "$(wc -l <<<"$files") files, none under /etc"

out=$(rpm -i --nodeps "$pkg" 2>&1) || fail "rpm -i: $out"
pass "rpm -i"
[[ "$(stat -c %a /usr/bin/firstboot)" == 755 ]] || fail "/usr/bin/firstboot mode $(stat -c %a /usr/bin/firstboot)"
out=$(/usr/bin/firstboot --version) || fail "firstboot --version"
[[ "$out" == "firstboot $want_version" ]] || fail "firstboot --version says '$out'"
pass "firstboot --version: $out"
out=$(MANPAGER=cat MANWIDTH=80 man -l /usr/share/man/man8/firstboot.8 2>&1) || fail "man: $out"
grep -Eq '^ +firstboot +- +firstboot +turns' <<<"$out" && grep -q -- '--root' <<<"$out" ||
  fail "the man page: no NAME line or no --root in: $(head -n 12 <<<"$out")"
pass "man page formats"
grep -qx 'ExecStart=/usr/bin/firstboot run --once-per-instance' /usr/lib/systemd/system/firstboot.service ||
  fail "the unit's ExecStart"
[[ -L /etc/systemd/system/multi-user.target.wants/firstboot.service ]] ||
  fail "the unit is not enabled after rpm -i (%post)"
pass "unit installed and enabled by %post"
out=$(rpm -V --nodeps firstboot 2>&1) || fail "rpm -V: $out"
pass "rpm -V: installed files match the package"
out=$(rpm -e --nodeps firstboot 2>&1) || fail "rpm -e: $out"
while read -r f; do
  [[ -d "$f" && ! -L "$f" ]] && continue
  [[ ! -e "$f" && ! -L "$f" ]] || fail "$f left after rpm -e"
done <<<"$files"
[[ ! -L /etc/systemd/system/multi-user.target.wants/firstboot.service ]] ||
  fail "the unit is still enabled after rpm -e (%preun)"
pass "rpm -e removes every file and disables the unit"
INNER
[[ ! -e /usr/bin/firstboot && ! -e "$HOME/.rpmdb" ]] ||
  { echo "FAIL firstboot or an rpm database ($HOME/.rpmdb) on the machine" >&2; exit 1; }
echo "ok   the machine is untouched"
echo "test-rpm: passed"
