# shellcheck shell=bash
# 10-monitoring on a fresh full-mode host, the whole advanced profile: fail2ban runs
# the sshd, postfix, postfix-sasl and dovecot jails, `validate monitoring` passes, and
# a client on the internet guessing SMTP AUTH passwords is banned with nftables (its
# next connection gets nothing). Uses 30-dns.sh's save/restore and 72-mail-full.sh's
# helpers.

# EXIT trap: fail2ban stopped and its nftables table gone, then as 72-mail-full.sh.
_monitoring_end() {
  local rc=$?
  e2e_exec mail -- sh -c '
    [ -e /var/lib/firstboot/state.json ] && firstboot rollback monitoring --force
    fail2ban-client stop || pkill -x fail2ban-server
    for _ in $(seq 50); do pgrep -x fail2ban-server >/dev/null || break; sleep 0.1; done
    nft delete table inet f2b-table
    rm -f /var/log/auth.log /var/log/fail2ban.log /var/lib/fail2ban/fail2ban.sqlite3
    true
  ' >/dev/null 2>&1
  (exit "$rc")
  _mail_full_end
}

scenario_monitoring_bans_sasl_guessers() {
  local hash out world=${E2E_HOST_V4[world]} i
  _dns_begin
  trap _monitoring_end EXIT
  hash=$(openssl passwd -6 "$_MAIL_FULL_PW")
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")" \
    "mail:" \
    "  maillog_file: /var/log/mail.log" \
    "  users:" \
    "    - {name: alice, password_hash: \"{SHA512-CRYPT}$hash\"}"
  # A fresh VM without the journal: sshd's log file exists (empty) from its first boot.
  e2e_exec mail -- sh -c ': >>/var/log/auth.log'
  out=$(e2e_exec mail -- firstboot run --profile advanced 2>&1) ||
    e2e_fail "firstboot run --profile advanced failed: $out"

  out=$(e2e_exec mail -- fail2ban-client status 2>&1) || e2e_fail "fail2ban-client status: $out"
  e2e_assert_contains "$out" "Number of jail:	4" "fail2ban-client status"
  for jail in sshd postfix postfix-sasl dovecot; do
    [[ "$out" =~ (:|,)[[:space:]]*"$jail"(,|$) ]] || e2e_fail "jail $jail is not running: $out"
  done
  out=$(e2e_exec mail -- firstboot validate monitoring 2>&1) || e2e_fail "validate monitoring: $out"
  e2e_assert_check "$out" PASS fail2ban.config "fail2ban's configuration loads" "validate monitoring"
  e2e_assert_check "$out" PASS fail2ban.jails_active "the postfix-sasl jail is running" "validate monitoring"

  # A right password still works, then five wrong ones from world (maxretry is 3).
  out=$(_mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
    --auth-password "$_MAIL_FULL_PW" --quit-after AUTH) || e2e_fail "alice's AUTH before the guesses: $out"
  for i in 1 2 3 4 5; do
    _mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
      --auth-password "wrong-$i" --quit-after AUTH >/dev/null 2>&1
    e2e_exec mail -- sh -c "fail2ban-client status postfix-sasl | grep -q '$world'" && break
  done
  for _ in $(seq 100); do
    out=$(e2e_exec mail -- fail2ban-client status postfix-sasl 2>&1)
    [[ "$out" == *"$world"* ]] && break
    sleep 0.2
  done
  e2e_assert_contains "$out" "$world" "postfix-sasl's banned list after five wrong passwords"
  out=$(e2e_exec mail -- nft list table inet f2b-table 2>&1) || e2e_fail "nft list table: $out"
  e2e_assert_contains "$out" "$world" "the nftables ban set"
  # Banned: world's next SMTP connection is refused or times out.
  ! out=$(e2e_exec world -- timeout 10 swaks --server "$_MAIL_FULL_V4" --port 587 \
    --timeout 5 --quit-after CONNECT 2>&1) || e2e_fail "a banned client still connects: $out"
}
