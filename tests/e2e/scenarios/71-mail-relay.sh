# shellcheck shell=bash
# 9-mail_config in relay mode on mail: everything leaves through world's
# smarthost (lib/world.sh), which wants SMTP AUTH over TLS. Mail submitted on
# mail reaches bob@example.net through it on 587 (STARTTLS) and on 465
# (implicit TLS); the password, from a file, shows up in no output, log or
# state, and its table is private; with a wrong password the message stays
# queued and the log says why. Uses 10-engine.sh's fresh-VM reset of mail.

_RELAY_PASSWORD_FILE=/etc/firstboot/relay.password

# _relay_setup PORT [PASSWORD]: mail as a fresh VM whose config sends through
# world on PORT as the test account (with PASSWORD, else the right one), then
# `firstboot run --only mail`, which must succeed.
_relay_setup() {
  local port=$1 pass=${2:-}
  _engine_begin
  [[ -n "$pass" ]] || pass=$(cat "$E2E_STATE/shared/relay.secret")
  printf '%s\n' "$pass" | e2e_put mail "$_RELAY_PASSWORD_FILE" 0600
  e2e_mail_config "mail:" "  maillog_file: /var/log/mail.log" "  mode: relay" \
    "  relay: {host: mx.example.net, port: $port, username: $E2E_RELAY_USER, password_file: $_RELAY_PASSWORD_FILE}"
  _engine_fb firstboot run --profile standard --only mail
  ((rc == 0)) || e2e_fail "firstboot run (relay to $port) exited $rc: $(tail -n 5 <<<"$out" | paste -sd ' ')"
  printf '%s\n' "$out"
  [[ "$out" != *"$pass"* ]] || e2e_fail "the relay password is in firstboot's output"
  e2e_retry 10 e2e_exec mail -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' ||
    e2e_fail "postfix in mail does not listen on 127.0.0.1:25"
}

# _relay_submit TOKEN: swaks on mail hands a message for bob@example.net to
# mail's own Postfix (which only listens on loopback in relay mode).
_relay_submit() {
  local token=$1 sent
  sent=$(e2e_exec mail -- swaks --server 127.0.0.1 --helo mail.example.test \
    --from "alice@example.test" --to "bob@example.net" \
    --header "Subject: relay $token" --body "token $token" 2>&1) ||
    e2e_fail "swaks to mail's postfix failed: $(tail -n 3 <<<"$sent" | paste -sd ' ')"
}

# _relay_delivered TOKEN: the file in bob's Maildir on world holding TOKEN.
_relay_delivered() {
  local token=$1
  # shellcheck disable=SC2317 # called through e2e_retry
  with_token() {
    e2e_exec world -- sh -c 'grep -l -- "$1" /home/bob/Maildir/new/* 2>/dev/null' sh "$token"
  }
  e2e_retry 30 with_token || e2e_fail "no message with $token in world:/home/bob/Maildir/new"
}

# _relay_through PORT SERVICE: a message goes through world on PORT, where
# world's smtpd SERVICE (submission or smtps) took it after AUTH as the test
# account; the table and its map are private and the password is nowhere in
# firstboot's logs and state.
_relay_through() {
  local port=$1 service=$2 token pass file log
  pass=$(cat "$E2E_STATE/shared/relay.secret")
  _relay_setup "$port"
  e2e_assert_eq "600 root:root 600 root:root" \
    "$(e2e_exec mail -- stat -c '%a %U:%G' /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db | paste -sd ' ')" \
    "modes of sasl_passwd and sasl_passwd.db"
  e2e_assert_eq "$E2E_RELAY_USER:$pass" \
    "$(e2e_exec mail -- postmap -q "[mx.example.net]:$port" hash:/etc/postfix/sasl_passwd)" \
    "postmap -q of the smarthost in sasl_passwd.db"
  ! e2e_exec mail -- grep -rqF -- "$pass" /var/log/firstboot /var/lib/firstboot ||
    e2e_fail "the relay password is in firstboot's logs, backups or state"

  token="fb-e2e-relay-$port-$RANDOM$RANDOM"
  _relay_submit "$token"
  file=$(_relay_delivered "$token")
  e2e_assert_contains "$(e2e_exec world -- cat "$file")" "Subject: relay $token" "delivered message"
  log=$(e2e_exec world -- cat /var/log/mail.log)
  e2e_assert_contains "$log" "postfix/$service/smtpd" "world's mail.log"
  grep -q "postfix/$service/smtpd.*client=mail.example.test\[[^]]*\], sasl_method=PLAIN, sasl_username=$E2E_RELAY_USER" <<<"$log" ||
    e2e_fail "world's $service did not take the message after AUTH as $E2E_RELAY_USER: $(grep "$service" <<<"$log" | tail -n 5)"
  log=$(e2e_exec mail -- cat /var/log/mail.log)
  grep -q "relay=mx.example.net\[${E2E_HOST_V4[world]}\]:$port.*status=sent" <<<"$log" ||
    grep -q "relay=mx.example.net\[${E2E_HOST_V6[world]}\]:$port.*status=sent" <<<"$log" ||
    e2e_fail "mail's log has no delivery through mx.example.net:$port: $(tail -n 5 <<<"$log")"
  [[ "$log" != *"$pass"* ]] || e2e_fail "the relay password is in mail's mail.log"
}

scenario_mail_relay_submission_587() {
  _relay_through 587 submission
}

scenario_mail_relay_smtps_465() {
  _relay_through 465 smtps
  e2e_assert_contains "$(e2e_exec mail -- postconf -h smtp_tls_wrappermode)" "yes" "smtp_tls_wrappermode"
}

# A wrong password: the smarthost refuses AUTH, the message stays in mail's
# queue (deferred, not bounced), and mail.log says why.
scenario_mail_relay_wrong_password_queued() {
  local token queue log
  _relay_setup 587 "wrong-$RANDOM$RANDOM"
  token="fb-e2e-relay-wrong-$RANDOM$RANDOM"
  _relay_submit "$token"
  # shellcheck disable=SC2317 # called through e2e_retry
  refused() { e2e_exec mail -- grep -q "SASL authentication failed" /var/log/mail.log; }
  e2e_retry 30 refused || e2e_fail "no 'SASL authentication failed' in mail's mail.log: $(e2e_exec mail -- tail -n 5 /var/log/mail.log)"
  log=$(e2e_exec mail -- cat /var/log/mail.log)
  grep -q "SASL authentication failed; server mx.example.net\[.*\] said: 535 5.7.8" <<<"$log" ||
    e2e_fail "the log line does not say what the smarthost answered: $(grep 'SASL' <<<"$log" | tail -n 2)"
  # Deferred once every address of the smarthost (IPv4, IPv6) refused.
  # shellcheck disable=SC2317 # called through e2e_retry
  deferred() { e2e_exec mail -- postqueue -p | grep -q "SASL authentication failed"; }
  e2e_retry 30 deferred || e2e_fail "the message is not deferred for the failed AUTH: $(e2e_exec mail -- postqueue -p)"
  queue=$(e2e_exec mail -- postqueue -p)
  e2e_assert_contains "$queue" "bob@example.net" "mail's queue"
  ! e2e_exec world -- grep -rqF -- "$token" /home/bob/Maildir/new || e2e_fail "the message was delivered"
  # validate names the cause: the mail queue check fails saying the password is wrong.
  local vrc=0 vout
  vout=$(e2e_exec mail -- firstboot validate --json mail 2>/dev/null) || vrc=$?
  ((vrc == 1)) || e2e_fail "validate with a refused relay AUTH exited $vrc: $vout"
  vout=$(jq -r '.modules[].checks[] | select(.id == "mail.queue") | "\(.status) \(.detail)"' <<<"$vout")
  [[ "$vout" == "fail the relay password is wrong"* ]] || e2e_fail "validate: mail.queue is \"$vout\""
  e2e_exec mail -- postsuper -d ALL >/dev/null 2>&1
}

# The smarthost's refusal of the unauthenticated, seen from mail: relaying to
# another domain without AUTH gets 554 5.7.1 on 587 and on 465.
scenario_mail_relay_without_auth_refused() {
  local out
  out=$(e2e_exec mail -- swaks --server mx.example.net --port 587 --tls \
    --from "alice@example.test" --to "someone@example.org" 2>&1) &&
    e2e_fail "world relayed for mail without AUTH on 587"
  e2e_assert_contains "$out" "554 5.7.1" "relay without AUTH on 587"
  out=$(e2e_exec mail -- swaks --server mx.example.net --port 465 --tls-on-connect \
    --from "alice@example.test" --to "someone@example.org" 2>&1) &&
    e2e_fail "world relayed for mail without AUTH on 465"
  e2e_assert_contains "$out" "554 5.7.1" "relay without AUTH on 465"
}

# A re-run changes nothing: the credentials' files keep their bytes, inode and
# mtime, and Postfix is not reloaded.
scenario_mail_relay_rerun_is_noop() {
  local before after
  _relay_setup 587
  before=$(_engine_fingerprint /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db /etc/postfix/main.cf)
  _engine_fb firstboot -v run --force --profile standard --only mail
  ((rc == 0)) || e2e_fail "run --force exited $rc: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  after=$(_engine_fingerprint /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db /etc/postfix/main.cf)
  e2e_assert_eq "$before" "$after" "sasl_passwd, its map and main.cf after run --force"
  [[ "$(e2e_exec mail -- cat /var/log/firstboot/9-mail_config.log)" != *"postfix reload"* ]] ||
    e2e_fail "run --force reloaded postfix"
}

# Seed 003's front-end relay (local mode with mail.forward): world sends to
# bob@home.example.test, whose MX is mail; mail accepts it (relay_domains) and
# forwards it to the internal host (world, by the transport table), which
# delivers it. world's network is trusted (mail.forward.networks), so world may
# send out through mail; acme's is not, and is refused (554 5.7.1).
scenario_mail_relay_front_end_forwards() {
  local token out file log
  _engine_begin
  e2e_mail_config "mail:" "  maillog_file: /var/log/mail.log" "  mode: local" \
    "  forward: {domains: [home.example.test], host: mx.example.net, networks: [198.51.100.0/24, \"2001:db8:1::/64\"]}"
  _engine_fb firstboot run --profile standard --only mail
  ((rc == 0)) || e2e_fail "firstboot run (forward) exited $rc: $(tail -n 5 <<<"$out" | paste -sd ' ')"
  e2e_retry 10 e2e_exec mail -- bash -c 'exec 3<>/dev/tcp/192.0.2.10/25' ||
    e2e_fail "postfix in mail does not listen on 192.0.2.10:25"
  e2e_assert_eq "smtp:[mx.example.net]:25" \
    "$(e2e_exec mail -- postmap -q home.example.test hash:/etc/postfix/transport)" "transport map"

  token="fb-e2e-forward-$RANDOM$RANDOM"
  out=$(e2e_exec world -- swaks --server mail.example.test --helo mx.example.net \
    --from "carol@example.net" --to "bob@home.example.test" \
    --header "Subject: forward $token" --body "token $token" 2>&1) ||
    e2e_fail "mail refused mail for home.example.test: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  file=$(_relay_delivered "$token")
  e2e_assert_contains "$(e2e_exec world -- cat "$file")" "Subject: forward $token" "forwarded message"
  log=$(e2e_exec mail -- cat /var/log/mail.log)
  grep -q "to=<bob@home.example.test>, relay=mx.example.net\[.*\]:25.*status=sent" <<<"$log" ||
    e2e_fail "mail's log has no forward to mx.example.net: $(tail -n 5 <<<"$log")"

  # Trusted network: world sends to example.net through mail.
  token="fb-e2e-trusted-$RANDOM$RANDOM"
  out=$(e2e_exec world -- swaks --server mail.example.test --helo mx.example.net \
    --from "carol@example.net" --to "bob@example.net" --body "token $token" 2>&1) ||
    e2e_fail "mail refused to relay for a trusted network: $(tail -n 3 <<<"$out" | paste -sd ' ')"
  _relay_delivered "$token" >/dev/null
  # Anyone else: refused.
  out=$(e2e_exec acme -- swaks --server mail.example.test --helo acme.example.test \
    --from "eve@example.test" --to "bob@example.net" 2>&1) &&
    e2e_fail "mail relayed for acme, which is not trusted"
  e2e_assert_contains "$out" "554 5.7.1" "relay from an untrusted host"
}

# Relay mode as a user runs it: the whole standard profile (no --only) with
# publication to the test DNS. Mail submitted on mail leaves through world's
# smarthost signed by OpenDKIM for example.test, and world's dkimverify
# (python3-dkim) passes against the DKIM record the run published, and validate's
# mail.loopback judges its own probe as coming from the smarthost. Uses
# 70-mail-local.sh's end (milters stopped) and 30-dns.sh's save/restore.
scenario_mail_relay_signed_dkimverify() {
  local token file out
  _dns_begin
  trap _mail_local_end EXIT
  # The smarthost's address in SPF (dns.spf evaluates it: without it, mail relayed
  # through it fails SPF at receivers and the run is rolled back).
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")" "  spf_extra: [\"a:mx.example.net\"]" \
    "mail:" "  maillog_file: /var/log/mail.log" \
    "  mode: relay" \
    "  relay: {host: mx.example.net, port: 587, username: $E2E_RELAY_USER, password_file: $_RELAY_PASSWORD_FILE}"
  e2e_put mail "$_RELAY_PASSWORD_FILE" 0600 <"$E2E_STATE/shared/relay.secret"
  out=$(e2e_exec mail -- firstboot run --profile standard 2>&1) ||
    e2e_fail "firstboot run --profile standard (relay) failed: $(tail -n 5 <<<"$out" | paste -sd ' ')"
  e2e_retry 10 e2e_exec mail -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' ||
    e2e_fail "postfix in mail does not listen on 127.0.0.1:25"
  token="fb-e2e-relay-signed-$RANDOM$RANDOM"
  _relay_submit "$token"
  file=$(_relay_delivered "$token")
  e2e_assert_contains "$(e2e_exec world -- cat "$file")" "d=example.test" "DKIM-Signature of the relayed message"
  e2e_assert_contains "$(e2e_exec world -- sh -c 'dkimverify <"$1"' sh "$file" 2>&1)" "signature ok" "dkimverify"
  # validate's probe, held once signed, judged as coming from the smarthost (world).
  e2e_assert_loopback pass "dkim=pass spf=pass dmarc=pass" "in relay mode"
  e2e_assert_contains "$(e2e_check_json 9-mail_config mail.loopback)" "from ${E2E_HOST_V4[world]}" "mail.loopback in relay mode"
}
