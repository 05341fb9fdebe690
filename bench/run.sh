#!/usr/bin/env bash
# Benchmark: wall time of a no-op `firstboot run --force` and of `firstboot plan` on a
# 4-module tree (profile advanced, offline --root), each beside the floor measured in
# the same run: the time to merely read and hash the files those runs manage.
#
#   bench/run.sh [ITERATIONS]      (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
cargo build --release --quiet
bin=$PWD/target/release/firstboot
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

mkdir -p "$tree/etc/firstboot" "$tree/var/lib" "$tree/var/log"
printf '127.0.0.1 localhost\n127.0.1.1 debian\n' >"$tree/etc/hosts"
echo debian >"$tree/etc/hostname"
echo 0123456789abcdef0123456789abcdef >"$tree/etc/machine-id"
cp examples/config.yaml "$tree/etc/firstboot/config.yaml"
"$bin" --root "$tree" run --profile advanced --quiet >/dev/null

# The files a run reads and compares: every managed file plus the config and state.
mapfile -t files < <(cd "$tree" && find etc -type f | sed "s|^|$tree/|"; echo "$tree/var/lib/firstboot/state.json")

now_ns() { date +%s%N; }
# time_it LABEL CMD...: mean milliseconds over $n runs.
time_it() {
  local t0 t1
  t0=$(now_ns)
  for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
  t1=$(now_ns)
  echo "scale=3; ($t1 - $t0) / $n / 1000000" | bc
}

floor=$(time_it sha256sum "${files[@]}")
noop=$(time_it "$bin" --root "$tree" run --profile advanced --force --quiet)
plan=$(time_it "$bin" --root "$tree" plan --profile advanced --force)
ratio() { echo "scale=1; $1 / $2" | bc; }

echo "files managed or read: ${#files[@]}, iterations: $n"
printf '%-34s %8s ms\n' "floor: read + sha256 those files" "$floor"
printf '%-34s %8s ms  (%sx floor)\n' "firstboot run --force (no-op)" "$noop" "$(ratio "$noop" "$floor")"
printf '%-34s %8s ms  (%sx floor)\n' "firstboot plan" "$plan" "$(ratio "$plan" "$floor")"
