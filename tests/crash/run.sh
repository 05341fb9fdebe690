#!/usr/bin/env bash
# Crash harness: kill a full `firstboot run --profile advanced` on a fresh offline root at
# each file-system mutation in turn (strace fault injection: SIGKILL on entering the N-th
# call of one syscall), then check that (a) the next run exits 0 and leaves the tree equal
# to an uninterrupted run's, with no temporary file left, and (b) on a copy of the killed
# tree, `rollback` of the interrupted module (then of the run's earlier modules) gives
# back the original tree. See docs/testing.md.
#
#   tests/crash/run.sh [--quick] [--only SYSCALL]...   all kill points (a sample with --quick)
#   tests/crash/run.sh --double [--quick]              a second kill in the recovery
#   tests/crash/run.sh --case SYSCALL:N[+SYSCALL:N]    one case; its trees are kept
#
# Prints each failing case (syscall, N, the call killed, what differed), then the count of
# kill points covered. Exits 0 only if every case passed. FIRSTBOOT_BIN: the binary
# (default: target/debug/firstboot, built first); CRASH_TMPDIR: where the trees go
# (default: /dev/shm if writable, else $TMPDIR or /tmp).
set -euo pipefail
CRASH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/crash/lib.sh
source "$CRASH_REPO/tests/crash/lib.sh"
# shellcheck source=tests/crash/cases.sh
source "$CRASH_REPO/tests/crash/cases.sh"
# shellcheck source=tests/crash/double.sh
source "$CRASH_REPO/tests/crash/double.sh"

usage() {
  sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

quick=0 double=0 one_case= only=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --double) double=1 ;;
    --only) only+=("${2:?--only needs a syscall}") && shift ;;
    --case) one_case=${2:?--case needs SYSCALL:N} && shift ;;
    -h | --help) usage 0 ;;
    *) echo "unknown argument: $1" >&2 && usage 2 ;;
  esac
  shift
done

for tool in strace; do
  command -v "$tool" >/dev/null && continue
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing $tool" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >&2
  else
    echo "the crash harness needs $tool" >&2
    exit 2
  fi
done

if [[ -z ${FIRSTBOOT_BIN:-} ]]; then
  (cd "$CRASH_REPO" && cargo build --quiet)
  FIRSTBOOT_BIN=$CRASH_REPO/target/debug/firstboot
fi
BIN=$FIRSTBOOT_BIN
# On a tmpfs an fsync costs nothing (the calls, so the kill points, are the same).
base=${CRASH_TMPDIR:-/dev/shm}
[[ -d $base && -w $base ]] || base=${TMPDIR:-/tmp}
W=$(mktemp -d "$base/fb-crash.XXXXXX")
[[ -n $one_case ]] || trap 'rm -rf "$W"' EXIT

# The original tree, its snapshot, and the reference: one uninterrupted run on a copy.
fresh_root "$W/orig"
snapshot "$W/orig" >"$W/orig.snap"
cp -a "$W/orig" "$W/ref"
"$BIN" --root "$W/ref" run --profile advanced -q || {
  echo "the uninterrupted reference run failed" >&2
  exit 1
}
{ snapshot "$W/ref" && own_files "$W/ref"; } >"$W/ref.snap"
bad=$(check_ssl "$W/ref")
[[ -z $bad ]] || {
  echo "the reference run's certificate is not consistent: $bad" >&2
  exit 1
}

# Which calls a run makes: one traced run of its own, on a copy.
cp -a "$W/orig" "$W/traced"
strace -f -qq -o "$W/all.trace" -e trace="$(trace_set)" \
  "$BIN" --root "$W/traced" run --profile advanced -q

covered=0 failed=0
if [[ -n $one_case ]]; then
  run_case "$one_case"
  ((failed)) || echo "PASS $one_case (kill points covered: $covered)"
  echo "trees kept in $W (orig, ref, killed: case, rolled back: case-rb)"
  exit "$((failed > 0))"
fi

if ((double)); then
  run_double
  echo "kill points covered: $covered, failed cases: $failed"
  exit "$((failed > 0))"
fi
for s in $(used_syscalls "$W/all.trace"); do
  if ((${#only[@]})) && [[ " ${only[*]} " != *" $s "* ]]; then continue; fi
  mapfile -t points < <(kill_points "$W/all.trace" "$s")
  ((quick)) && mapfile -t points < <(sample "${points[@]}")
  before=$failed
  for n in "${points[@]}"; do run_case "$s:$n"; done
  # Past the last call, the run must not be killed: every call of this syscall was a
  # kill point (a complete count, not a guess).
  if ((!quick)); then
    last=$(kill_points "$W/all.trace" "$s" all | tail -n1)
    not_killed_after "$s" "$((last + 1))"
  fi
  printf '%-10s %4d kill points, %d failed\n' "$s" "${#points[@]}" "$((failed - before))"
done
echo "kill points covered: $covered, failed cases: $failed"
((failed == 0))
