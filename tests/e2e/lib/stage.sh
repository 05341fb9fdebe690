# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# The whole stage: router, four hosts and their services.

# Logs worth reading when something fails: HOST:PATH inside the host.
E2E_LOGS=(world:/var/log/mail.log mail:/var/log/mail.log dns:/var/log/knot/knot.log
  acme:/var/log/pebble.log mail:/var/log/firstboot/firstboot.log)

# Time one setup step: e2e_step "what" COMMAND...
e2e_step() {
  local what=$1 t0
  shift
  t0=$(e2e_now_ms)
  "$@"
  e2e_log "$what: up in $(e2e_since "$t0")"
}

# The firstboot binary under test, shared with hosts as /run/e2e/bin/firstboot
# (on their PATH). From $FIRSTBOOT_BIN, else the repository's debug build.
e2e_share_firstboot() {
  local bin=${FIRSTBOOT_BIN:-$E2E_REPO/target/debug/firstboot}
  mkdir -p "$E2E_STATE/shared/bin"
  if [[ -x "$bin" ]]; then
    cp "$bin" "$E2E_STATE/shared/bin/firstboot"
    e2e_log "firstboot: $bin is /run/e2e/bin/firstboot in the hosts"
  elif [[ -n "${FIRSTBOOT_BIN:-}" ]]; then
    e2e_die "FIRSTBOOT_BIN=$FIRSTBOOT_BIN is not an executable file"
  else
    e2e_log "firstboot: no binary at $bin (scenarios that need it will fail)"
  fi
}

# For scenarios that run firstboot inside a host.
e2e_require_firstboot() {
  [[ -x "$E2E_STATE/shared/bin/firstboot" ]] ||
    e2e_fail "no firstboot binary: run cargo build, or set FIRSTBOOT_BIN"
}

e2e_hosts_up() {
  local h
  e2e_router_up
  for h in "${E2E_HOSTS[@]}"; do
    e2e_host_up "$h"
  done
}

e2e_stage_up() {
  mkdir -p "$E2E_STATE/shared/repo"
  e2e_share_firstboot
  e2e_step "hosts ${E2E_HOSTS[*]}" e2e_hosts_up
  e2e_step "dns (knot)" e2e_dns_up
  e2e_step "acme (pebble)" e2e_acme_up
  e2e_step "world (postfix)" e2e_world_up
}

# Print the tail of every relevant log, indented, for a failure report.
e2e_dump_logs() {
  local spec host file lines=${1:-40}
  for spec in "${E2E_LOGS[@]}"; do
    host=${spec%%:*}
    file=${spec#*:}
    echo "  --- $host:$file (last $lines lines)"
    { e2e_exec "$host" -- tail -n "$lines" "$file" 2>&1 || true; } | sed 's/^/  | /'
  done
  for file in "$E2E_STATE"/hosts/*/console.log; do
    [[ -s "$file" ]] || continue
    grep -qvx ready "$file" || continue
    echo "  --- ${file#"$E2E_STATE"/} (host init)"
    sed 's/^/  | /' "$file"
  done
}
