# shellcheck shell=bash
# The engine on a live system: `firstboot` run as root on "/" inside host
# mail (its /etc and /var are overlays, so nothing reaches the machine).
#
# Hosts are shared by all scenarios of a run, so each scenario here starts
# from the same "fresh VM" state of mail and puts mail back as the stage made
# it when it ends, pass or fail (see _engine_begin). The pristine copies of
# the files firstboot touches are taken once per stage, inside mail, before
# any scenario of this file changes them.

_ENGINE_PRISTINE=/run/fb-e2e-engine/pristine
# Files firstboot (or these scenarios) may write in mail: restored (or
# removed, if they did not exist) from the pristine copies.
_ENGINE_FILES=(/etc/hostname /etc/hosts /etc/aliases /etc/aliases.db /etc/mailname
  /etc/postfix/main.cf)
# Created by firstboot or these scenarios, never part of the stage.
_ENGINE_JUNK=(/etc/firstboot /var/lib/firstboot /tmp/fbmods /etc/fb-e2e-fixture.conf
  /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db)
# Logs (and firstboot's backups): removed too, but kept after a failure so the
# runner can print them (E2E_LOGS); the next scenario removes them.
_ENGINE_LOGS=(/var/log/firstboot /var/log/mail.log)
# The running host name of a fresh VM, before firstboot names it.
_ENGINE_FRESH_NAME=fresh-vm

# Inside mail: copy the pristine state once, then restore it (stop a Postfix
# the scenario started, drop firstboot's state, config, logs and backups;
# with "keep-logs", leave the logs).
_engine_reset() {
  local junk=("${_ENGINE_JUNK[@]}")
  [[ "${1:-}" == keep-logs ]] || junk+=("${_ENGINE_LOGS[@]}")
  e2e_exec mail -- bash -c '
    set -eu
    pristine=$1 files=$2 junk=$3
    if [[ ! -e "$pristine/done" ]]; then
      mkdir -p "$pristine"
      for f in $files; do
        name=${f//\//_}
        if [[ -e "$f" ]]; then cp -a "$f" "$pristine/$name"; else : >"$pristine/$name.absent"; fi
      done
      hostname >"$pristine/uts-hostname"
      : >"$pristine/done"
    fi
    if pgrep -x master >/dev/null; then
      postfix stop >/dev/null 2>&1 || postfix abort >/dev/null 2>&1 || true
      for _ in $(seq 50); do pgrep -x master >/dev/null || break; sleep 0.1; done
    fi
    # The milters 9-mail_config starts, gone before the next run asks whether they run.
    pkill -x opendkim || true
    pkill -x opendmarc || true
    for _ in $(seq 50); do pgrep -x "opendkim|opendmarc" >/dev/null || break; sleep 0.1; done
    for f in $files; do
      name=${f//\//_}
      rm -f "$f"
      if [[ -e "$pristine/$name" ]]; then cp -a "$pristine/$name" "$f"; fi
    done
    rm -rf $junk
    hostname "$(cat "$pristine/uts-hostname")"
  ' bash "$_ENGINE_PRISTINE" "${_ENGINE_FILES[*]}" "${junk[*]}"
}

# EXIT trap of every scenario here: mail back as the stage made it.
_engine_end() {
  local rc=$? keep=""
  ((rc == 0)) || keep="keep-logs"
  _engine_reset ${keep:+"$keep"} || echo "warning: could not restore host mail" >&2
  return "$rc"
}

# Start a scenario: mail restored and turned into a fresh VM (another host
# name, a distribution's /etc/hosts and /etc/hostname), with the config
# file firstboot reads; mail restored again when the scenario ends.
_engine_begin() {
  e2e_require_firstboot
  _engine_reset
  trap _engine_end EXIT
  e2e_exec mail -- sh -c '
    hostname "$1"
    echo "$1" >/etc/hostname
    printf "%s\n" "127.0.0.1	localhost" "127.0.1.1	$1" "# fb-e2e: a line firstboot must keep" \
      "::1	localhost ip6-localhost ip6-loopback" "ff02::1	ip6-allnodes" >/etc/hosts
  ' sh "$_ENGINE_FRESH_NAME"
  # No syslog daemon runs in test hosts: postlogd writes mail.log itself.
  e2e_mail_config "mail:" "  maillog_file: /var/log/mail.log"
}

# An operator's main.cf, there before firstboot (9-mail_config replaces it,
# keeping this one in its backup, and a rollback puts it back).
_engine_main_cf() {
  e2e_put mail /etc/postfix/main.cf 0644 <<'EOF'
# fb-e2e: the operator's main.cf before firstboot
compatibility_level = 3.6
myhostname = mail.example.test
mydomain = example.test
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
# No syslog daemon runs in test hosts: postlogd writes this file.
maillog_file = /var/log/mail.log
EOF
  # Postfix waits up to 2 s before reading a main.cf modified a moment ago.
  e2e_exec mail -- touch -d '-1 minute' /etc/postfix/main.cf
}

# firstboot inside mail; sets out (stdout and stderr together), err (stderr
# alone) and rc, and never fails by itself.
_engine_fb() {
  local errf
  errf=$(mktemp)
  rc=0
  out=$(e2e_exec mail -- "$@" 2>"$errf") || rc=$?
  err=$(cat "$errf")
  rm -f "$errf"
  out+=$'\n'"$err"
}

# sha256, inode, mode, owner and mtime (ns) of files inside mail ("absent"
# for a missing one).
_engine_fingerprint() {
  e2e_exec mail -- sh -c '
    for f; do
      if [ -e "$f" ]; then
        printf "%s %s %s\n" "$f" "$(sha256sum <"$f" | cut -d" " -f1)" "$(stat -c "%i %a %U:%G %.9Y" "$f")"
      else
        echo "$f absent"
      fi
    done' sh "$@"
}

# What mail's /etc/hosts must hold once 8-dns_config ran: the fresh VM's own
# lines, untouched, and the marked block.
_engine_assert_hosts() { # ORIGINAL_HOSTS WHAT
  local hosts outside block
  hosts=$(e2e_exec mail -- cat /etc/hosts)
  outside=$(sed '/^# BEGIN firstboot$/,/^# END firstboot$/d' <<<"$hosts")
  block=$(sed -n '/^# BEGIN firstboot$/,/^# END firstboot$/p' <<<"$hosts")
  e2e_assert_eq "$1" "$outside" "$2: /etc/hosts outside firstboot's block"
  e2e_assert_eq "# BEGIN firstboot
${E2E_HOST_V4[mail]} mail.example.test mail
${E2E_HOST_V6[mail]} mail.example.test mail
# END firstboot" "$block" "$2: firstboot's block in /etc/hosts"
}

# 8-dns_config names a fresh VM: /etc/hostname, /etc/mailname, a marked
# block in /etc/hosts (the distribution's lines kept), the running host name;
# `firstboot validate dns` then passes, its live command check included, and
# fails once the running name is wrong.
scenario_engine_run_dns_live() {
  _engine_begin
  local before hosts_before
  before=$(e2e_exec mail -- hostname)
  e2e_assert_eq "$_ENGINE_FRESH_NAME" "$before" "host name of mail before the run"
  hosts_before=$(e2e_exec mail -- cat /etc/hosts)

  _engine_fb firstboot run --profile standard --only dns
  ((rc == 0)) || e2e_fail "firstboot run --only dns exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  e2e_assert_contains "$out" "8-dns_config: ok" "output of firstboot run"

  e2e_assert_eq mail.example.test "$(e2e_exec mail -- hostname)" "running host name after the run"
  e2e_assert_eq mail.example.test "$(e2e_exec mail -- cat /etc/hostname)" "/etc/hostname"
  e2e_assert_eq example.test "$(e2e_exec mail -- cat /etc/mailname)" "/etc/mailname"
  _engine_assert_hosts "$hosts_before" "after the run"

  _engine_fb firstboot validate dns
  ((rc == 0)) || e2e_fail "firstboot validate dns exited $rc: $out"
  e2e_assert_check "$out" PASS host.hostname "running host name is mail.example.test" "firstboot validate dns"
  [[ "$out" != *FAIL* ]] || e2e_fail "firstboot validate dns reports a failure: $out"

  # The command check really asks the running system.
  e2e_exec mail -- hostname "$_ENGINE_FRESH_NAME"
  _engine_fb firstboot validate dns
  e2e_exec mail -- hostname mail.example.test
  ((rc == 1)) || e2e_fail "validate dns with host name $_ENGINE_FRESH_NAME exited $rc, expected 1: $out"
  e2e_assert_check "$out" FAIL host.hostname "running host name is mail.example.test" \
    "firstboot validate dns with a wrong running host name"

  _engine_fb firstboot status
  ((rc == 0)) || e2e_fail "firstboot status exited $rc: $out"
  grep -Eq '^8-dns_config +ok ' <<<"$out" || e2e_fail "firstboot status does not show 8-dns_config ok: $out"
}

# A second run (--force) of dns and mail changes nothing: same contents,
# inodes, modes and mtimes, and Postfix is neither reloaded nor restarted.
scenario_engine_rerun_is_noop_live() {
  _engine_begin
  _engine_main_cf
  local files=(/etc/hostname /etc/hosts /etc/mailname /etc/aliases /etc/aliases.db)
  local fp_before fp_after pid_before pid_after log_before log_after

  _engine_fb firstboot run --profile standard --only dns --only mail
  ((rc == 0)) || e2e_fail "first run exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  e2e_retry 10 e2e_exec mail -- pgrep -x master >/dev/null ||
    e2e_fail "no postfix master process after the first run"
  fp_before=$(_engine_fingerprint "${files[@]}")
  pid_before=$(e2e_exec mail -- pgrep -x master)
  log_before=$(e2e_exec mail -- cat /var/log/mail.log)

  _engine_fb firstboot run --profile standard --only dns
  ((rc == 0)) || e2e_fail "plain second run exited $rc: $out"
  e2e_assert_contains "$out" "8-dns_config: already done on this instance, skipped" "plain second run"

  _engine_fb firstboot run --profile standard --only dns --only mail --force
  ((rc == 0)) || e2e_fail "run --force exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  e2e_assert_contains "$out" "8-dns_config: ok" "run --force (dns ran again)"
  e2e_assert_contains "$out" "9-mail_config: ok" "run --force (mail ran again)"
  if grep -Eiq 'reload|restart|newaliases|update|create' <<<"$out"; then
    e2e_fail "run --force did something: $(grep -Ei 'reload|restart|newaliases|update|create' <<<"$out" | paste -sd ' ')"
  fi

  fp_after=$(_engine_fingerprint "${files[@]}")
  [[ "$fp_before" == "$fp_after" ]] ||
    e2e_fail "files changed by a re-run: $(diff <(echo "$fp_before") <(echo "$fp_after") | grep '^[<>]' | paste -sd ' ')"
  pid_after=$(e2e_exec mail -- pgrep -x master)
  e2e_assert_eq "$pid_before" "$pid_after" "postfix master PID across the re-run"
  sleep 0.3 # postlogd writes what master logs (a reload) within this
  log_after=$(e2e_exec mail -- cat /var/log/mail.log)
  e2e_assert_eq "$log_before" "$log_after" "mail.log across the re-run"
}

# 9-mail_config on the live system: the package step is a no-op (Postfix is
# installed on the machine), the aliases block lands in /etc/aliases,
# newaliases rebuilds aliases.db, Postfix is started through its init script
# (no systemd here) and `firstboot validate mail` passes; `firstboot rollback
# mail` then puts /etc/aliases back byte for byte.
scenario_engine_mail_module_live() {
  _engine_begin
  _engine_main_cf
  local aliases_before db_before db_after modlog

  [[ "$(e2e_exec mail -- dpkg-query -W -f='${Status}' postfix)" == "install ok installed" ]] ||
    e2e_fail "postfix is not installed as mail sees it"
  ! e2e_exec mail -- test -e /run/systemd/system || e2e_fail "mail has /run/systemd/system"
  ! e2e_exec mail -- pgrep -x master >/dev/null || e2e_fail "postfix already runs in mail"
  aliases_before=$(_engine_fingerprint /etc/aliases)
  db_before=$(e2e_exec mail -- sh -c 'stat -c %.9Y /etc/aliases.db 2>/dev/null || echo 0')

  _engine_fb firstboot -v run --profile standard --only mail
  ((rc == 0)) || e2e_fail "firstboot run --only mail exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  e2e_assert_contains "$out" "service postfix: start" "run --only mail (service step)"
  e2e_assert_contains "$out" "9-mail_config: ok" "run --only mail"
  modlog=$(e2e_exec mail -- cat /var/log/firstboot/9-mail_config.log)
  [[ "$modlog" != *"apt-get"* ]] || e2e_fail "the package step ran apt-get: $(grep apt-get <<<"$modlog" | head -n 2)"
  e2e_assert_contains "$modlog" "running: service postfix start" "9-mail_config.log"
  # An unchanged step is not a progress line (since -v no longer echoes the log): the
  # module log has it.
  e2e_assert_contains "$modlog" "package postfix: installed" "9-mail_config.log (package step)"

  e2e_assert_eq "# BEGIN firstboot aliases
root: admin@example.test
postmaster: admin@example.test
abuse: admin@example.test
hostmaster: admin@example.test
# END firstboot aliases" "$(e2e_exec mail -- sed -n '/^# BEGIN firstboot aliases$/,/^# END firstboot aliases$/p' /etc/aliases)" \
    "aliases block in /etc/aliases"
  e2e_assert_contains "$(e2e_exec mail -- cat /etc/aliases)" "postmaster:" "/etc/aliases keeps its own lines"
  db_after=$(e2e_exec mail -- stat -c %.9Y /etc/aliases.db) || e2e_fail "no /etc/aliases.db after the run"
  [[ "$db_after" > "$db_before" ]] || e2e_fail "/etc/aliases.db not rebuilt (mtime $db_before -> $db_after)"
  e2e_assert_eq admin@example.test "$(e2e_exec mail -- postalias -q abuse hash:/etc/aliases)" \
    "postalias -q abuse (what newaliases built)"

  e2e_retry 10 e2e_exec mail -- pgrep -x master >/dev/null ||
    e2e_fail "no postfix master process in mail after the run"
  e2e_retry 10 e2e_exec mail -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' ||
    e2e_fail "postfix in mail does not listen on 127.0.0.1:25"
  e2e_assert_contains "$(e2e_exec mail -- cat /var/log/mail.log)" "starting the Postfix mail system" "mail's mail.log"

  _engine_fb firstboot validate mail
  ((rc == 0)) || e2e_fail "firstboot validate mail exited $rc: $out"
  e2e_assert_check "$out" PASS postfix.config "postfix configuration is valid" "firstboot validate mail"

  _engine_fb firstboot rollback mail
  ((rc == 0)) || e2e_fail "firstboot rollback mail exited $rc: $out"
  e2e_assert_contains "$out" "restored /etc/aliases" "firstboot rollback mail"
  # A restore writes a new file: compare everything but the inode.
  local want got
  want=$(cut -d' ' -f1,2,4- <<<"$aliases_before")
  got=$(_engine_fingerprint /etc/aliases | cut -d' ' -f1,2,4-)
  e2e_assert_eq "$want" "$got" "/etc/aliases (sha256 mode owner mtime) after rollback"
  if [[ "$db_before" == 0 ]]; then
    ! e2e_exec mail -- test -e /etc/aliases.db || e2e_fail "/etc/aliases.db left behind by the rollback"
  fi
  _engine_fb firstboot status
  grep -Eq '^9-mail_config +reverted ' <<<"$out" || e2e_fail "firstboot status after rollback: $out"
}

# A module whose check fails is rolled back on the live system: exit 1, the
# module and the check named on stderr, /etc/hosts byte-identical, the file
# it created gone. The module is a fixture given with --modules-dir that
# overrides 10-monitoring.
scenario_engine_rollback_on_failing_check_live() {
  _engine_begin
  local hosts_before hosts_after
  e2e_put mail /tmp/fbmods/10-monitoring/module.yaml <<'EOF'
name: monitoring
description: e2e fixture - changes two files, then a check that always fails.
steps:
  - file:
      path: /etc/fb-e2e-fixture.conf
      content: "written by the e2e fixture\n"
  - block:
      path: /etc/hosts
      marker: fb-e2e fixture
      content: "203.0.113.7 fixture.example.test\n"
checks:
  - command:
      name: fixture check that always fails
      argv: ["false"]
EOF
  hosts_before=$(_engine_fingerprint /etc/hosts)

  _engine_fb firstboot --modules-dir /tmp/fbmods run --profile advanced --only monitoring
  e2e_assert_eq 1 "$rc" "exit status of a run whose check fails (output: $(tail -n 4 <<<"$out" | paste -sd ' '))"
  # It did change both files before the check ran.
  e2e_assert_contains "$out" "file /etc/fb-e2e-fixture.conf: create" "output of the failing run"
  e2e_assert_contains "$out" "block /etc/hosts (fb-e2e fixture): update contents" "output of the failing run"
  e2e_assert_contains "$err" "10-monitoring" "stderr of the failing run (module)"
  e2e_assert_contains "$err" "fixture check that always fails" "stderr of the failing run (check)"
  e2e_assert_contains "$err" "rolled back" "stderr of the failing run"

  hosts_after=$(_engine_fingerprint /etc/hosts)
  e2e_assert_eq "$(cut -d' ' -f1,2,4- <<<"$hosts_before")" "$(cut -d' ' -f1,2,4- <<<"$hosts_after")" \
    "/etc/hosts (sha256 mode owner mtime) after the rollback"
  ! e2e_exec mail -- test -e /etc/fb-e2e-fixture.conf || e2e_fail "/etc/fb-e2e-fixture.conf left behind"

  _engine_fb firstboot --modules-dir /tmp/fbmods status
  grep -Eq '^10-monitoring +rolled-back ' <<<"$out" || e2e_fail "firstboot status after the failed run: $out"
}

# A run killed after its 2nd change (FIRSTBOOT_FAILPOINT aborts the process,
# as kill -9 or a power loss would) leaves a half-changed host; the next plain
# run rolls that back first, says so, and then completes.
scenario_engine_killed_run_recovers_live() {
  _engine_begin
  local hosts_before fblog
  hosts_before=$(e2e_exec mail -- cat /etc/hosts)

  rc=0
  out=$(e2e_exec mail -- env FIRSTBOOT_FAILPOINT=abort-after-changes:2 \
    firstboot run --profile standard --only dns --force 2>&1) || rc=$?
  e2e_assert_eq 134 "$rc" "exit status of the aborted run (SIGABRT) (output: $(tail -n 2 <<<"$out" | paste -sd ' '))"
  # Half done: /etc/hostname and /etc/hosts changed, /etc/mailname and the
  # running name not yet.
  e2e_assert_eq mail.example.test "$(e2e_exec mail -- cat /etc/hostname)" "/etc/hostname after the abort"
  e2e_assert_contains "$(e2e_exec mail -- cat /etc/hosts)" "# BEGIN firstboot" "/etc/hosts after the abort"
  ! e2e_exec mail -- test -e /etc/mailname || e2e_fail "/etc/mailname exists after an abort after 2 changes"
  e2e_assert_eq "$_ENGINE_FRESH_NAME" "$(e2e_exec mail -- hostname)" "running host name after the abort"

  _engine_fb firstboot run --profile standard --only dns
  ((rc == 0)) || e2e_fail "run after the abort exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  e2e_assert_contains "$out" "an interrupted run of 8-dns_config was rolled back first" "run after the abort"
  e2e_assert_contains "$out" "8-dns_config: ok" "run after the abort"
  # The rollback really restored the half-changed files before the re-run.
  fblog=$(e2e_exec mail -- cat /var/log/firstboot/firstboot.log)
  e2e_assert_contains "$fblog" "was interrupted in module 8-dns_config" "firstboot.log"
  e2e_assert_contains "$fblog" "restored /etc/hosts" "firstboot.log (recovery)"
  e2e_assert_contains "$fblog" "restored /etc/hostname" "firstboot.log (recovery)"

  e2e_assert_eq mail.example.test "$(e2e_exec mail -- hostname)" "running host name"
  e2e_assert_eq mail.example.test "$(e2e_exec mail -- cat /etc/hostname)" "/etc/hostname"
  e2e_assert_eq example.test "$(e2e_exec mail -- cat /etc/mailname)" "/etc/mailname"
  _engine_assert_hosts "$hosts_before" "after the recovery"
  _engine_fb firstboot status
  grep -Eq '^8-dns_config +ok ' <<<"$out" || e2e_fail "firstboot status after the recovery: $out"
}
