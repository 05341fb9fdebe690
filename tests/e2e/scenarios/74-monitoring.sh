# shellcheck shell=bash
# 10-monitoring on a fresh full-mode host, the whole advanced profile: fail2ban runs
# the sshd, postfix, postfix-sasl and dovecot jails, `validate monitoring` passes, and
# a client on the internet guessing SMTP AUTH passwords is banned with nftables (its
# next connection gets nothing). Uses 30-dns.sh's save/restore and 72-mail-full.sh's
# helpers.

# EXIT trap: fail2ban stopped and its nftables table gone, then as 72-mail-full.sh.
_monitoring_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  e2e_exec mail -- sh -c '
    [ -e /var/lib/firstboot/state.json ] && firstboot rollback monitoring --force
    fail2ban-client stop || pkill -x fail2ban-server
    for _ in $(seq 50); do pgrep -x fail2ban-server >/dev/null || break; sleep 0.1; done
    nft delete table inet f2b-table
    nft delete table inet firstboot
    rm -f /var/log/auth.log /var/log/fail2ban.log /var/lib/fail2ban/fail2ban.sqlite3
    true
  ' >/dev/null 2>&1
  (exit "$rc")
  _mail_full_end
}

# _monitoring_mails SUBJECT-PART: how many mails in admin's Maildir have it in Subject.
_monitoring_mails() {
  e2e_exec mail -- sh -c 'cat /var/vmail/example.test/admin/Maildir/new/* 2>/dev/null |
    grep -c "^Subject: .*$1"' sh "$1" || true
}

# _monitoring_wait_mails SUBJECT-PART N: wait (bounded) until N such mails arrived.
_monitoring_wait_mails() {
  local n
  for _ in $(seq 100); do
    n=$(_monitoring_mails "$1")
    ((n >= $2)) && break
    sleep 0.2
  done
  e2e_assert_eq "$2" "$(_monitoring_mails "$1")" "mails with '$1' in admin's mailbox"
}

# _monitoring_dkim_record VALUE: replace the published DKIM record.
_monitoring_dkim_record() {
  printf 'server %s\nzone example.test.\nupdate delete default._domainkey.example.test. TXT\nupdate add default._domainkey.example.test. 300 TXT "%s"\nsend\n' \
    "${E2E_HOST_V4[dns]}" "$1" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key
}

scenario_monitoring_bans_sasl_guessers() {
  local out world=${E2E_HOST_V4[world]} i
  _dns_begin
  trap _monitoring_end EXIT
  _mail_full_config
  # Two failures ban: Dovecot's auth penalty slows later guesses until Postfix reports
  # them as "Connection lost to authentication server", which the stock filter skips.
  e2e_exec mail -- sh -c 'cat >>/etc/firstboot/config.yaml' <<<$'monitoring:\n  fail2ban:\n    maxretry: 2'
  # A fresh VM without the journal: sshd's log file exists (empty) from its first boot,
  # and the mail logs hold nothing of earlier scenarios (fail2ban reads a log's last
  # findtime at start: world's wrong passwords there would ban it at once).
  e2e_exec mail -- sh -c ': >>/var/log/auth.log; : >/var/log/mail.log; : >/var/log/dovecot.log'
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

  # A right password still works, then wrong ones from world until banned (maxretry 2).
  out=$(_mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
    --auth-password "$_MAIL_FULL_PW" --quit-after AUTH) || e2e_fail "alice's AUTH before the guesses: $out"
  for i in 1 2 3 4 5; do
    _mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
      --auth-password "wrong-$i" --quit-after AUTH >/dev/null 2>&1 || true
    if e2e_exec mail -- sh -c "fail2ban-client status postfix-sasl | grep -q '$world'"; then break; fi
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

  # The digest: the ban and the failures reach admin's mailbox; a second watch does not
  # report them again (a later event, such as the dovecot jail's own ban of the same
  # guesses, may come in a digest of its own).
  out=$(e2e_exec mail -- firstboot watch 2>&1) || e2e_fail "firstboot watch: $out"
  _monitoring_wait_mails "ban(s)" 1
  out=$(e2e_exec mail -- sh -c 'grep -l "^Subject: .*ban(s)" /var/vmail/example.test/admin/Maildir/new/* | xargs cat')
  e2e_assert_contains "$out" "$world in jail postfix-sasl" "the digest"
  e2e_assert_contains "$out" "$world (smtp)" "the digest's authentication failures"
  e2e_exec mail -- firstboot watch >/dev/null 2>&1 || e2e_fail "second firstboot watch failed"
  sleep 1
  e2e_assert_eq 1 "$(e2e_exec mail -- sh -c 'grep -l "in jail postfix-sasl" /var/vmail/example.test/admin/Maildir/new/* | wc -l')" \
    "digests reporting the postfix-sasl ban"
  _monitoring_wait_mails "ALERT" 0

  # A broken DNS record: exactly one alert, then exactly one recovery mail.
  local good other
  good=$(e2e_dig mail @"${E2E_HOST_V4[dns]}" default._domainkey.example.test TXT | sed 's/" "//g; s/"//g')
  other=$(e2e_exec mail -- sh -c 'openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -outform DER 2>/dev/null | base64 -w0')
  _monitoring_dkim_record "v=DKIM1; k=rsa; p=$other"
  # watch exits 0 with a failing check: the alert is its output, not an error.
  e2e_exec mail -- firstboot watch >/dev/null 2>&1 || e2e_fail "firstboot watch failed"
  e2e_exec mail -- firstboot watch >/dev/null 2>&1 || e2e_fail "firstboot watch failed"
  _monitoring_wait_mails "ALERT" 1
  out=$(e2e_exec mail -- sh -c 'grep -l "^Subject: .*ALERT" /var/vmail/example.test/admin/Maildir/new/* | xargs cat')
  e2e_assert_contains "$out" "9-mail_config/dns.dkim (new)" "the alert names the check"
  _monitoring_dkim_record "$good"
  e2e_exec mail -- firstboot watch >/dev/null 2>&1 || e2e_fail "firstboot watch failed"
  e2e_exec mail -- firstboot watch >/dev/null 2>&1 || e2e_fail "firstboot watch failed"
  _monitoring_wait_mails "recovered" 1
  _monitoring_wait_mails "ALERT" 1
}
