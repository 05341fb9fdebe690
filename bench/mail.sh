#!/usr/bin/env bash
# Benchmark: mail on the test internet (tests/e2e's stage), each figure beside a
# baseline measured in the same run and the target of seed 002:
#   - local delivery, submit over SMTP -> file in ~carol/Maildir/new (local mode,
#     mailbox maildir), p50/p95; baselines: the same Postfix on a port without milters
#     and policy agent, and a plain write + fsync + rename of the file (the floor);
#   - delivery to world (bob@example.net, MX over the test DNS, TLS), p50/p95;
#     baseline: the same without milters (unsigned);
#   - DKIM signing overhead per message: smtp-source (Postfix's) into a port with
#     OpenDKIM alone vs one without milters, messages held (no delivery load);
#   - Postfix start (`postfix start` -> 220 on port 25); baseline: world's Postfix;
#   - `firstboot run --profile standard` wall time per mode (relay, local, full) on a
#     fresh mail host, packages installed; baseline: the no-op re-run.
#
#   sudo bench/mail.sh [MESSAGES]   (default 200 per latency figure)
#   BENCH_RUNS=3 (fresh runs per mode), BENCH_SOURCE=500 (smtp-source messages per round)
#
# Agents on a shared machine run it as: flock /tmp/firstboot-e2e.lock bench/mail.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
runs=${BENCH_RUNS:-3}
source_n=${BENCH_SOURCE:-500}
((EUID == 0)) || { echo "run as root (the stage is network namespaces)" >&2 && exit 2; }
cargo build --release --quiet
export FIRSTBOOT_BIN=$PWD/target/release/firstboot
bench=$PWD/bench
for lib in common install hosts dns acme world machine stage; do
  # shellcheck source=/dev/null
  source "tests/e2e/lib/$lib.sh"
done
for f in tests/e2e/scenarios/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done
# shellcheck source=bench/mail-lib.sh
source "$bench/mail-lib.sh"

exec 9>"$E2E_LOCK"
flock -w "${E2E_LOCK_WAIT:-900}" 9 || e2e_die "another run holds $E2E_LOCK"
e2e_teardown
results=$(mktemp)
trap 'e2e_teardown; rm -f "$results"' EXIT
mkdir -p "$E2E_STATE/logs" "$E2E_STATE/hosts" "$E2E_STATE/shared"
chmod 0700 "$E2E_STATE"
chmod 0755 "$E2E_STATE/shared"
e2e_install_packages
(e2e_stage_up) 9>&-

for mode in relay local full; do
  for ((r = 1; r <= runs; r++)); do
    (bench_mode_run "$mode") 9>&- >>"$results"
  done
done
(bench_traffic) 9>&- >>"$results"
bench_report "$results"
