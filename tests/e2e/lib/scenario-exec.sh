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

# A command that fails without e2e_fail: name it, and where it was in the
# scenario's own file (the innermost frame if none is in scenarios/).
on_err() {
  local rc=$? i src=${BASH_SOURCE[1]:-?} line=${BASH_LINENO[0]:-?} what=$BASH_COMMAND
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    if [[ "${BASH_SOURCE[i]}" == */scenarios/* ]]; then
      src=${BASH_SOURCE[i]} line=${BASH_LINENO[i - 1]}
      what=$(sed -n "${line}{s/^[[:space:]]*//;p}" "$src")
      break
    fi
  done
  if [[ -n "${E2E_REASON_FILE:-}" && ! -s "$E2E_REASON_FILE" ]]; then
    printf '%s:%s: %s (exit %s)\n' "${src##*/}" "$line" "$what" "$rc" >"$E2E_REASON_FILE"
  fi
}
trap on_err ERR

if [[ "$1" == --stage ]]; then
  e2e_stage_up
else
  "scenario_$1"
fi
