#!/bin/bash
# Runs one scenario (or, with --stage, builds the stage) in a fresh bash, so
# `set -e` holds everywhere in it and a failure cannot disturb the runner.
# Called by run.sh; E2E_REASON_FILE receives the reason of a failure.
set -Eeuo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for lib in common install hosts dns acme world machine stage; do
  # shellcheck source=/dev/null
  source "$dir/$lib.sh"
done
for f in "$E2E_ROOT"/scenarios/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

# A command that fails without e2e_fail: name it, and where it was: in the
# scenario's own file if the call came from there, else in the innermost
# function that is not one of the small helpers.
on_err() {
  local rc=$? i pick=0 src line what
  local helpers=" e2e_exec e2e_put e2e_daemon e2e_dig e2e_retry e2e_netns_exec "
  # Frame i is function FUNCNAME[i], at line BASH_LINENO[i-1] of BASH_SOURCE[i].
  for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
    if [[ "${BASH_SOURCE[i]}" == */scenarios/* ]]; then
      pick=$i
      break
    fi
  done
  if ((pick == 0)); then
    pick=1
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
      if [[ "$helpers" != *" ${FUNCNAME[i]} "* ]]; then
        pick=$i
        break
      fi
    done
  fi
  src=${BASH_SOURCE[pick]} line=${BASH_LINENO[pick - 1]}
  what=$(sed -n "${line}{s/^[[:space:]]*//;p}" "$src" 2>/dev/null)
  if [[ -n "${E2E_REASON_FILE:-}" && ! -s "$E2E_REASON_FILE" ]]; then
    printf '%s (%s:%s): %s (exit %s)\n' "${FUNCNAME[pick]}" "${src##*/}" "$line" \
      "${what:-$BASH_COMMAND}" "$rc" >"$E2E_REASON_FILE"
  fi
}
trap on_err ERR

if [[ "$1" == --stage ]]; then
  e2e_stage_up
else
  "scenario_$1"
fi
