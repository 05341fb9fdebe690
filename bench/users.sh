#!/usr/bin/env bash
# Benchmark: how `firstboot plan` and a no-op `firstboot run --force` grow with the
# number of mailboxes (mail.users, full mode) on an offline --root tree: 0 (the
# baseline, measured in the same run), 10, 1,000 and 10,000 users. Target (issue
# [mail]): at most linear growth, and 10,000 users add under 1 s.
#
#   bench/users.sh [ITERATIONS]      (default 5; each figure is the mean)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
cargo build --release --quiet
bin=$PWD/target/release/firstboot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hash='{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo'

# tree COUNT: a fresh tree, applied once, with COUNT mailboxes in its config.
tree() {
  local t=$work/$1
  mkdir -p "$t/etc/firstboot" "$t/var/lib" "$t/var/log"
  printf '127.0.0.1 localhost\n' >"$t/etc/hosts"
  echo debian >"$t/etc/hostname"
  echo 0123456789abcdef0123456789abcdef >"$t/etc/machine-id"
  # examples/config.yaml with mail.mode full and the mailboxes in its mail: map.
  {
    sed '/^mail:$/,/^[^ ]/ s/^  mode: local$/  mode: full/' examples/config.yaml
  } >"$t/etc/firstboot/config.yaml"
  grep -q '^  mode: full$' "$t/etc/firstboot/config.yaml" || {
    echo "examples/config.yaml no longer sets mail.mode local; fix bench/users.sh" >&2
    exit 1
  }
  if (($1 > 0)); then
    # Insert the list right after the `mail:` line.
    local users=$work/users.$1
    echo "  users:" >"$users"
    for ((i = 0; i < $1; i++)); do
      printf '    - {name: user%d, password_hash: "%s"}\n' "$i" "$hash"
    done >>"$users"
    sed -i "/^mail:\$/r $users" "$t/etc/firstboot/config.yaml"
  fi
  "$bin" --root "$t" run --profile advanced --quiet >/dev/null
  echo "$t"
}

now_ns() { date +%s%N; }
# mean_ms CMD...: mean milliseconds over $n runs.
mean_ms() {
  local t0 t1
  t0=$(now_ns)
  "$@" >/dev/null || { echo "failed: $*" >&2 && exit 1; } # warm-up, and it must work
  for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
  t1=$(now_ns)
  echo "scale=1; ($t1 - $t0) / $n / 1000000" | bc
}

printf '%-8s %12s %12s %14s %14s\n' users "plan ms" "run ms" "plan +ms" "run +ms"
base_plan= base_run=
for count in 0 10 1000 10000; do
  t=$(tree "$count")
  plan=$(mean_ms "$bin" --root "$t" plan --profile advanced --force)
  run=$(mean_ms "$bin" --root "$t" run --profile advanced --force --quiet)
  if [[ -z $base_plan ]]; then base_plan=$plan base_run=$run; fi
  printf '%-8s %12s %12s %14s %14s\n' "$count" "$plan" "$run" \
    "$(echo "$plan - $base_plan" | bc)" "$(echo "$run - $base_run" | bc)"
done
echo "iterations: $n; +ms is the cost over 0 users measured in this run"
