#!/usr/bin/env bash
# Benchmark: `firstboot validate 9-mail_config` wall time on the test internet (the e2e
# stage) after a full-mode run, with the test DNS behind a forwarder that delays every
# answer by D ms (bench/dns-delay.py on mail's loopback; no netem on these kernels).
# The DNS part is the span from the first query the forwarder sees to its last answer,
# reported as a multiple of D, beside the same queries replayed one after another.
#
#   sudo bench/validate.sh [RUNS]     (default 3 per delay; delays BENCH_DELAYS="0 50 100")
#
# BENCH_TIMELINE=1 also prints, on stderr, each query of the last run at each delay
# (offset in ms, type, name), then the replay's: what a check asks late shows there.
#
# The dev build (dependencies optimized): the figures are the network's. It takes the
# e2e lock itself (E2E_LOCK_WAIT seconds at most).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
delays=${BENCH_DELAYS:-0 50 100}
((EUID == 0)) || { echo "run as root (the stage is network namespaces)" >&2 && exit 2; }
cargo build --quiet
export FIRSTBOOT_BIN=$PWD/target/debug/firstboot
bench=$PWD/bench
for lib in common install hosts dns acme world machine stage; do
  # shellcheck source=/dev/null
  source "tests/e2e/lib/$lib.sh"
done
for f in tests/e2e/scenarios/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

exec 9>"$E2E_LOCK"
flock -w "${E2E_LOCK_WAIT:-900}" 9 || e2e_die "another run holds $E2E_LOCK"
e2e_teardown
trap 'e2e_teardown' EXIT
mkdir -p "$E2E_STATE/logs" "$E2E_STATE/hosts" "$E2E_STATE/shared"
chmod 0700 "$E2E_STATE"
chmod 0755 "$E2E_STATE/shared"
e2e_install_packages
e2e_stage_up 9>&-

_BV_LOG=/run/fb-bench-dns.log

_BV_PID=""

# _bv_forwarder DELAY: (re)start the delaying forwarder on mail's 127.0.0.1:53.
_bv_forwarder() {
  _bv_forwarder_stop
  _BV_PID=$(e2e_exec mail -- sh -c 'nohup python3 "$1" serve 127.0.0.1 "$2" "$3" "$4" >/dev/null 2>&1 &
    echo $!; sleep 0.5' sh "$bench/dns-delay.py" "${E2E_HOST_V4[dns]}" "$1" "$_BV_LOG")
}

# _bv_ms: wall time of one validate through the forwarder, in ms.
_bv_ms() {
  local t0 t1
  e2e_exec mail -- sh -c ': >"$1"' sh "$_BV_LOG"
  t0=$(date +%s%N)
  e2e_exec mail -- firstboot validate 9-mail_config >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

_bv_median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bench_validate() {
  _mail_full_up >/dev/null
  trap '_bv_forwarder_stop; e2e_exec mail -- rm -f "$_BV_LOG"; _mail_full_end' EXIT
  e2e_exec mail -- sed -i "s/server: ${E2E_HOST_V4[dns]}\$/server: 127.0.0.1/" /etc/firstboot/config.yaml
  local d r walls spans wall dns seq queries
  printf '%-7s %-10s %-8s %-18s %s\n' delay validate queries "DNS part (x D)" "sequential (x D)"
  for d in $delays; do
    _bv_forwarder "$d"
    walls=()
    spans=()
    for ((r = 0; r < runs; r++)); do
      walls+=("$(_bv_ms)")
      spans+=("$(e2e_exec mail -- python3 "$bench/dns-delay.py" span "$_BV_LOG")")
    done
    wall=$(_bv_median "${walls[@]}")
    dns=$(_bv_median "${spans[@]}")
    read -r seq queries < <(e2e_exec mail -- python3 "$bench/dns-delay.py" replay 127.0.0.1 "$_BV_LOG")
    ((${BENCH_TIMELINE:-0})) && e2e_exec mail -- python3 "$bench/dns-delay.py" timeline "$_BV_LOG" >&2
    if ((d > 0)); then
      printf '%-7s %-10s %-8s %-18s %s\n' "${d}ms" "${wall}ms" "$queries" \
        "${dns}ms ($(echo "scale=1; $dns / $d" | bc)x)" "${seq}ms ($(echo "scale=1; $seq / $d" | bc)x)"
    else
      printf '%-7s %-10s %-8s %-18s %s\n' 0ms "${wall}ms" "$queries" "${dns}ms" "${seq}ms"
    fi
  done
}

# The forwarder this bench started, by its pid in mail's namespace.
_bv_forwarder_stop() {
  [[ -n "$_BV_PID" ]] && e2e_exec mail -- kill "$_BV_PID" >/dev/null 2>&1
  _BV_PID=""
  sleep 0.2
}

(bench_validate) 9>&-
