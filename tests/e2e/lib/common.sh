# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# Shared settings and small helpers for the e2e stage. Sourced, never run.

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E_REPO="$(cd "$E2E_ROOT/../.." && pwd)"
# Everything a run creates lives here: host overlays, logs, keys, PIDs.
# /run is root-only (no /tmp symlink games) and is not overlaid by anything
# on the machine; hosts mount their own /run over it.
E2E_STATE="${FB_E2E_STATE:-/run/fb-e2e}"
E2E_LOCK="${E2E_STATE}.lock"
# Every network namespace of the stage is named with this prefix; a stale one
# from an aborted run is found by it.
E2E_NS_PREFIX="${FB_E2E_NS_PREFIX:-fb-}"
export E2E_ROOT E2E_REPO E2E_STATE

# Milliseconds since the epoch.
e2e_now_ms() { date +%s%3N; }

# Milliseconds elapsed since $1 (from e2e_now_ms), as seconds: "12.3s".
e2e_since() {
  local ms=$(($(e2e_now_ms) - $1))
  printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

# A progress line on stderr; stdout is kept for PASS/FAIL lines.
e2e_log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*" >&2; }

e2e_die() {
  if [[ -n "${E2E_REASON_FILE:-}" && ! -s "$E2E_REASON_FILE" ]]; then
    printf '%s\n' "$*" >"$E2E_REASON_FILE"
  fi
  printf '[e2e %s] error: %s\n' "$(date +%T)" "$*" >&2
  exit 1
}

# Fail the current scenario with a reason (printed on its FAIL line).
e2e_fail() {
  if [[ -n "${E2E_REASON_FILE:-}" ]]; then
    printf '%s\n' "$*" >"$E2E_REASON_FILE"
  fi
  printf 'fail: %s\n' "$*" >&2
  exit 1
}

# e2e_retry SECONDS COMMAND...: run COMMAND every 0.2s until it succeeds or
# SECONDS have passed. Returns COMMAND's last status.
e2e_retry() {
  local limit=$1 rc=0
  shift
  local deadline=$((SECONDS + limit))
  while :; do
    rc=0
    "$@" || rc=$?
    ((rc == 0)) && return 0
    ((SECONDS >= deadline)) && return "$rc"
    sleep 0.2
  done
}

# Assertions for scenarios. Each fails the scenario with a precise reason.
e2e_assert_eq() { # EXPECTED ACTUAL WHAT
  [[ "$1" == "$2" ]] || e2e_fail "$3: expected '$1', got '$2'"
}
e2e_assert_contains() { # HAYSTACK NEEDLE WHAT
  [[ "$1" == *"$2"* ]] || e2e_fail "$3: '$2' not found in: $(printf '%s' "$1" | head -c 300)"
}

# `firstboot validate --json MODULE` on mail: "STATUS DETAIL" of check ID.
e2e_check_json() { # MODULE ID
  { e2e_exec mail -- firstboot validate --json "$1" 2>/dev/null || true; } |
    jq -r --arg id "$2" '.modules[].checks[] | select(.id == $id) | "\(.status) \(.detail)"'
}

# mail.loopback on mail says STATUS with a detail starting with DETAIL, and its probe,
# held once signed, is no longer in the queue (nor anything else).
e2e_assert_loopback() { # STATUS DETAIL WHAT
  local got left
  got=$(e2e_check_json 9-mail_config mail.loopback)
  [[ "$got" == "$1 $2"* ]] || e2e_fail "mail.loopback $3: want $1 '$2', got '$got'"
  left=$(e2e_exec mail -- postqueue -j)
  [[ -z "$left" ]] || e2e_fail "mail.loopback $3 left a queue entry: $left"
}

# `firstboot validate`'s table says STATUS for check ID, whose line (wrapped over
# several lines when long) holds TEXT: compared with all runs of blanks as one space.
e2e_assert_check() { # VALIDATE_OUTPUT STATUS ID TEXT WHAT
  local flat want
  flat=$(printf '%s' "$1" | tr '\n' ' ' | tr -s ' ')
  want=$(printf '%s %s %s' "$2" "$3" "$4" | tr -s ' ')
  [[ "$flat" == *"$want"* ]] || e2e_fail "$5: '$want' not found in: $(printf '%s' "$flat" | head -c 600)"
}
