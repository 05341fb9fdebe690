#!/bin/bash
# End-to-end tests of firstboot against real services on a small internet of
# test hosts built on this machine. See docs/testing.md.
#
#   sudo tests/e2e/run.sh [--keep] [SCENARIO...]   build the stage, run scenarios
#   tests/e2e/run.sh --list                         list the scenarios
#   sudo tests/e2e/run.sh --down                    remove a stage left by --keep
#
# Prints one line per scenario (PASS name / FAIL name: reason), the wall time,
# and last "N passed, N failed". Exits 0 only if every scenario passed.
set -euo pipefail

E2E_RUN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for lib in common install hosts dns acme world machine stage; do
  # shellcheck source=/dev/null
  source "$E2E_RUN_DIR/lib/$lib.sh"
done

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

keep=0 list=0 down=0
selected=()
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --list) list=1 ;;
    --down) down=1 ;;
    -h | --help) usage 0 ;;
    -*) echo "unknown option: $1" >&2 && usage 2 ;;
    machine_unchanged | scenario_machine_unchanged) ;; # always runs, last
    *) selected+=("${1#scenario_}") ;;
  esac
  shift
done

# Scenarios: every `scenario_NAME() {` in scenarios/*.sh, in file order.
all_scenarios=()
for f in "$E2E_ROOT"/scenarios/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
  mapfile -t -O "${#all_scenarios[@]}" all_scenarios < <(
    sed -n 's/^scenario_\([A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{.*/\1/p' "$f")
done
if ((list)); then
  printf '%s\n' "${all_scenarios[@]}" machine_unchanged
  exit 0
fi
if ((${#selected[@]} == 0)); then
  selected=("${all_scenarios[@]}")
else
  for name in "${selected[@]}"; do
    declare -F "scenario_$name" >/dev/null || {
      echo "no such scenario: $name (see --list)" >&2
      exit 2
    }
  done
fi

((EUID == 0)) || e2e_die "run as root (sudo $0)"
t_start=$(e2e_now_ms)

# One run at a time. Hosts and daemons never inherit fd 9, so the lock is
# free as soon as this script ends, even by kill -9.
exec 9>"$E2E_LOCK"
if ! flock -n 9; then
  e2e_log "another run holds $E2E_LOCK; waiting up to ${E2E_LOCK_WAIT:-900}s for it"
  flock -w "${E2E_LOCK_WAIT:-900}" 9 || e2e_die "another run still holds $E2E_LOCK"
fi

# Leftovers of an earlier run (killed, or kept with --keep).
e2e_teardown
if ((down)); then
  e2e_log "stage removed"
  exit 0
fi

job=""
on_exit() {
  local rc=$?
  set +e
  [[ -n "$job" ]] && kill "$job" 2>/dev/null
  ((rc == 130 || rc == 143)) && e2e_log "interrupted"
  if ((keep)); then
    e2e_log "hosts kept: tests/e2e/shell.sh HOST (one of: ${E2E_HOSTS[*]}); remove: tests/e2e/run.sh --down"
  else
    e2e_teardown
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$E2E_STATE"
chmod 0700 "$E2E_STATE"
mkdir -p "$E2E_STATE/logs" "$E2E_STATE/hosts" "$E2E_STATE/shared"
chmod 0755 "$E2E_STATE/shared"

e2e_install_packages
fingerprint_before=$(e2e_machine_fingerprint)

passed=0 failed=0

# Run "$@" in the background (so Ctrl-C is handled at once) with a time limit,
# its output in $log. Sets rc and reason.
run_job() {
  local log=$1 reason_file=$2
  shift 2
  rm -f "$reason_file"
  rc=0
  E2E_REASON_FILE="$reason_file" timeout -k 5 "${E2E_SCENARIO_TIMEOUT:-300}" "$@" \
    >"$log" 2>&1 9>&- &
  job=$!
  echo "$job" >"$E2E_STATE/job.pid"
  wait "$job" || rc=$?
  job=""
  reason=""
  if ((rc == 124)); then
    reason="timed out after ${E2E_SCENARIO_TIMEOUT:-300}s"
  elif [[ -s "$reason_file" ]]; then
    reason=$(head -n 1 "$reason_file")
  else
    reason="exit status $rc"
  fi
}

report_failure() { # NAME LOG
  echo "FAIL $1: $reason"
  echo "  --- output of $1 (last 30 lines)"
  tail -n 30 "$2" | sed 's/^/  | /'
  e2e_dump_logs 25
}

# The stage. Its progress goes to stderr as it happens.
e2e_log "building the stage in $E2E_STATE"
stage_log="$E2E_STATE/logs/stage.log"
run_job "$stage_log" "$E2E_STATE/logs/stage.reason" \
  bash "$E2E_ROOT/lib/scenario-exec.sh" --stage
cat "$stage_log" >&2
if ((rc == 0)); then
  for name in "${selected[@]}"; do
    log="$E2E_STATE/logs/scenario-$name.log"
    run_job "$log" "$E2E_STATE/logs/scenario-$name.reason" \
      bash "$E2E_ROOT/lib/scenario-exec.sh" "$name"
    if ((rc == 0)); then
      echo "PASS $name"
      passed=$((passed + 1))
    else
      report_failure "$name" "$log"
      failed=$((failed + 1))
    fi
  done
else
  report_failure stage "$stage_log"
  failed=$((failed + 1))
fi

# Last: the machine is as it was. With the stage gone (unless --keep), no
# namespace, process or state of ours may remain either.
problems=()
if ((!keep)); then
  e2e_teardown
  leftover=$(ip netns list | awk -v p="$E2E_NS_PREFIX" 'index($1, p) == 1 {printf "%s ", $1}')
  [[ -z "$leftover" ]] || problems+=("network namespaces left: $leftover")
  if pgrep -f "$E2E_ROOT/lib/host-init.sh" >/dev/null; then
    problems+=("host processes left: $(pgrep -f "$E2E_ROOT/lib/host-init.sh" | tr '\n' ' ')")
  fi
  [[ ! -e "$E2E_STATE" ]] || problems+=("$E2E_STATE left")
fi
fingerprint_after=$(e2e_machine_fingerprint)
fingerprint_diff=$(diff <(echo "$fingerprint_before") <(echo "$fingerprint_after") || true)
if [[ -n "$fingerprint_diff" ]]; then
  problems+=("machine changed: $(grep -c '^[<>]' <<<"$fingerprint_diff") lines of its fingerprint differ")
fi
if ((${#problems[@]} == 0)); then
  echo "PASS machine_unchanged"
  passed=$((passed + 1))
else
  echo "FAIL machine_unchanged: ${problems[0]}"
  printf '  | %s\n' "${problems[@]}"
  if [[ -n "$fingerprint_diff" ]]; then
    head -n 40 <<<"$fingerprint_diff" | sed 's/^/  | /'
  fi
  failed=$((failed + 1))
fi

echo "wall time: $(e2e_since "$t_start")"
echo "$passed passed, $failed failed"
((failed == 0))
