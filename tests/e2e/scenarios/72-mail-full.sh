# shellcheck shell=bash
# Full mode (the advanced profile's default) on a fresh mail host: Dovecot serves the
# mailboxes of mail.users over IMAPS and POP3S, Postfix takes mail from them on 587
# (STARTTLS) and 465 (implicit TLS) after AUTH through Dovecot, delivers the domain's
# mail over LMTP and never relays for strangers. Checked with swaks and curl. Uses
# 30-dns.sh's save/restore of mail and the zone.

_MAIL_FULL_PW='alice-Full-pass-1'
# admin: the mailbox of admin_email (admin@example.test), owner of the role addresses too.
_MAIL_FULL_ADMIN_PW='admin-Full-pass-1'
_MAIL_FULL_V4=192.0.2.10
_MAIL_FULL_BOX=/var/vmail/example.test/alice/Maildir

# EXIT trap: Dovecot stopped and the mailboxes gone, then the rest as 30-dns.sh puts it back.
_mail_full_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  e2e_exec mail -- sh -c '
    service dovecot stop || pkill -x dovecot
    for _ in $(seq 50); do pgrep -x dovecot >/dev/null || break; sleep 0.1; done
    rm -rf /var/vmail /var/log/dovecot.log
    true
  ' >/dev/null 2>&1
  (exit "$rc")
  _dns_end
}

# _mail_full_config: mail's config for full mode, alice and admin in mail.users.
_mail_full_config() {
  local hash hash_admin
  hash=$(openssl passwd -6 "$_MAIL_FULL_PW")
  hash_admin=$(openssl passwd -6 "$_MAIL_FULL_ADMIN_PW")
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")" \
    "mail:" \
    "  maillog_file: /var/log/mail.log" \
    "  users:" \
    "    - {name: alice, password_hash: \"{SHA512-CRYPT}$hash\"}" \
    "    - {name: admin, password_hash: \"{SHA512-CRYPT}$hash_admin\"}"
}

# _mail_full_up: the advanced profile (ssl, dns, mail), once, with alice and admin in
# mail.users (SHA512-CRYPT hashes made by openssl, a tool we did not write).
_mail_full_up() {
  local out
  _dns_begin
  trap _mail_full_end EXIT
  _mail_full_config
  # Monitoring left out: 50-profiles.sh runs the whole profile.
  out=$(e2e_exec mail -- firstboot run --profile advanced --only ssl --only dns --only mail 2>&1) ||
    e2e_fail "firstboot run --profile advanced failed: $out"
  printf '%s\n' "$out"
}

# _mail_full_swaks ARGS...: swaks from world to mail (a client on the internet).
_mail_full_swaks() {
  e2e_exec world -- swaks --server "$_MAIL_FULL_V4" --helo client.example.net \
    --timeout 20 "$@" 2>&1
}

# _mail_full_tls PORT OPENSSL-ARGS...: a TLS handshake with mail's PORT from world succeeds.
_mail_full_tls() {
  local port=$1
  shift
  e2e_exec world -- sh -c 'echo | timeout 10 openssl s_client -connect "$0" "$@" 2>&1 |
    grep -Eq "Cipher is [A-Z0-9]"' "$_MAIL_FULL_V4:$port" "$@"
}

# _mail_full_delivered SUBJECT: a message with that subject is in alice's Maildir.
_mail_full_delivered() {
  e2e_exec mail -- sh -c 'grep -rqs -- "$1" "$2/new" "$2/cur"' sh "$1" "$_MAIL_FULL_BOX"
}

scenario_mail_full_submission_imaps_pop3s() {
  _mail_full_up
  local tag out uid
  tag="full-$$-$RANDOM"
  out=$(e2e_exec mail -- doveconf -n 2>&1) || e2e_fail "doveconf -n: $out"
  e2e_assert_contains "$out" "ssl = required" "doveconf -n"
  out=$(e2e_exec mail -- ss -Hltn 2>&1)
  for port in 993 995 587 465; do
    [[ "$out" == *":$port "* ]] || e2e_fail "nothing listens on $port: $out"
  done
  for port in 143 110; do
    [[ "$out" != *":$port "* ]] || e2e_fail "plain port $port is open: $out"
  done

  # The TLS policy as openssl sees it on 993 and 995: TLS 1.2 with ECDHE+AEAD is taken;
  # CBC suites and TLS 1.1 are not.
  local port aead='ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'
  local cbc='ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0'
  for port in 993 995; do
    _mail_full_tls "$port" -tls1_2 -cipher "$aead" ||
      e2e_fail "port $port refuses TLS 1.2 with ECDHE+AES-GCM"
    ! _mail_full_tls "$port" -tls1_2 -cipher "$cbc" || e2e_fail "port $port accepts a CBC suite"
    ! _mail_full_tls "$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' || e2e_fail "port $port accepts TLS 1.1"
  done

  # 587 with STARTTLS and 465 with implicit TLS, AUTH as alice: to herself and to world.
  out=$(_mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
    --auth-password "$_MAIL_FULL_PW" --from alice@example.test \
    --to alice@example.test --h-Subject "$tag-587") || e2e_fail "swaks 587: $out"
  e2e_assert_contains "$out" "235 2.7.0 Authentication successful" "AUTH on 587"
  out=$(_mail_full_swaks --port 465 --tlsc --auth LOGIN --auth-user alice@example.test \
    --auth-password "$_MAIL_FULL_PW" --from alice@example.test \
    --to alice@example.test,bob@example.net --h-Subject "$tag-465") ||
    e2e_fail "swaks 465: $out"
  e2e_assert_contains "$out" "235 2.7.0 Authentication successful" "AUTH on 465"

  e2e_retry 30 _mail_full_delivered "$tag-587" || e2e_fail "the 587 message is not in alice's Maildir"
  e2e_retry 30 _mail_full_delivered "$tag-465" || e2e_fail "the 465 message is not in alice's Maildir"
  e2e_retry 30 e2e_exec world -- sh -c 'grep -rqs -- "$1" /home/bob/Maildir/new' sh "$tag-465" ||
    e2e_fail "the message to bob@example.net did not reach world"

  # Fetched with curl over IMAPS (UID SEARCH, then that message) and POP3S.
  out=$(e2e_exec world -- curl -sS -k --max-time 20 -u "alice:$_MAIL_FULL_PW" \
    "imaps://$_MAIL_FULL_V4/INBOX" -X "UID SEARCH SUBJECT $tag-587" 2>&1) ||
    e2e_fail "IMAPS search: $out"
  uid=$(sed -n 's/^\* SEARCH \([0-9][0-9]*\).*/\1/p' <<<"$out" | tr -d '\r')
  [[ -n "$uid" ]] || e2e_fail "IMAPS search found nothing: $out"
  out=$(e2e_exec world -- curl -sS -k --max-time 20 -u "alice:$_MAIL_FULL_PW" \
    "imaps://$_MAIL_FULL_V4/INBOX;UID=$uid" 2>&1) || e2e_fail "IMAPS fetch: $out"
  e2e_assert_contains "$out" "Subject: $tag-587" "message fetched over IMAPS"
  out=$(e2e_exec world -- curl -sS -k --max-time 20 -u "alice:$_MAIL_FULL_PW" \
    "pop3s://$_MAIL_FULL_V4/" 2>&1) || e2e_fail "POP3S list: $out"
  [[ "$out" =~ ^1\  ]] || e2e_fail "POP3S lists no message: $out"
  out=$(e2e_exec world -- curl -sS -k --max-time 20 -u "alice:$_MAIL_FULL_PW" \
    "pop3s://$_MAIL_FULL_V4/1" 2>&1) || e2e_fail "POP3S retrieve: $out"
  e2e_assert_contains "$out" "Subject: $tag-" "message retrieved over POP3S"

  # No AUTH without TLS (587 before STARTTLS, and port 25 not at all); a wrong password.
  if out=$(_mail_full_swaks --port 587 --auth PLAIN --auth-user alice \
    --auth-password "$_MAIL_FULL_PW" --from alice@example.test --to alice@example.test); then
    e2e_fail "AUTH without TLS on 587 was accepted: $out"
  fi
  e2e_assert_contains "$out" "not advertise" "AUTH without TLS on 587"
  if out=$(_mail_full_swaks --port 25 --tls --auth PLAIN --auth-user alice \
    --auth-password "$_MAIL_FULL_PW" --from alice@example.test --to bob@example.net); then
    e2e_fail "AUTH on port 25 was accepted: $out"
  fi
  if out=$(_mail_full_swaks --port 587 --tls --auth PLAIN --auth-user alice \
    --auth-password "wrong-$_MAIL_FULL_PW" --from alice@example.test --to bob@example.net); then
    e2e_fail "a wrong password was accepted: $out"
  fi
  e2e_assert_contains "$out" "535" "wrong password"
  if out=$(e2e_exec world -- curl -sS -k --max-time 20 -u "alice:wrong-$_MAIL_FULL_PW" \
    "imaps://$_MAIL_FULL_V4/INBOX" 2>&1); then
    e2e_fail "IMAPS accepted a wrong password: $out"
  fi
}

# No relay for strangers, and no sending as someone else for users.
scenario_mail_full_no_relay_for_strangers() {
  _mail_full_up
  local rcpt out
  # From world, no AUTH, on 25 and on 587 after STARTTLS: every trick gets a 5xx.
  for rcpt in 'bob%example.net@example.test' 'example.net!bob@example.test' \
    '"bob@example.net"@example.test' 'bob@example.net' 'bob@example.net@example.test' \
    'nobody@example.test'; do
    out=$(_mail_full_swaks --port 25 --from someone@example.net --to "$rcpt" \
      --quit-after RCPT) && e2e_fail "port 25 took RCPT $rcpt: $out"
    [[ "$out" =~ \<[~*]\*\ 5[0-9][0-9] ]] || e2e_fail "port 25, RCPT $rcpt: no 5xx: $out"
  done
  out=$(_mail_full_swaks --port 587 --tls --from someone@example.net --to bob@example.net \
    --quit-after RCPT) && e2e_fail "587 relayed without AUTH: $out"
  [[ "$out" =~ \<[~*]\*\ 5[0-9][0-9] ]] || e2e_fail "587 without AUTH: no 5xx: $out"
  # Postmaster of the domain is a valid recipient (the role aliases).
  out=$(_mail_full_swaks --port 25 --from someone@example.net --to postmaster@example.test \
    --quit-after RCPT) || e2e_fail "postmaster@example.test refused: $out"

  # Authenticated, a user sends only as an address it owns (reject_sender_login_mismatch):
  # alice not as admin (another user), a role address or a foreign address; on 587 and 465.
  local port tls sender
  for port in 587 465; do
    tls=--tls
    [[ $port == 465 ]] && tls=--tlsc
    for sender in admin@example.test postmaster@example.test someone@example.net; do
      out=$(_mail_full_swaks --port "$port" "$tls" --auth PLAIN --auth-user alice \
        --auth-password "$_MAIL_FULL_PW" --from "$sender" --to bob@example.net \
        --quit-after RCPT) && e2e_fail "$port: alice sent as $sender: $out"
      e2e_assert_contains "$out" "235 2.7.0 Authentication successful" "AUTH as alice on $port"
      [[ "$out" =~ \<[~*]\*\ 553\ 5\.7\.1.*not\ owned\ by\ user\ alice ]] ||
        e2e_fail "$port: alice as $sender: no 553 'not owned': $out"
    done
    # As herself she is taken; admin as itself and as the role addresses it receives.
    out=$(_mail_full_swaks --port "$port" "$tls" --auth PLAIN --auth-user alice \
      --auth-password "$_MAIL_FULL_PW" --from alice@example.test --to bob@example.net \
      --quit-after RCPT) || e2e_fail "$port: alice as alice@example.test refused: $out"
    for sender in admin@example.test postmaster@example.test; do
      out=$(_mail_full_swaks --port "$port" "$tls" --auth PLAIN --auth-user admin@example.test \
        --auth-password "$_MAIL_FULL_ADMIN_PW" --from "$sender" --to bob@example.net \
        --quit-after RCPT) || e2e_fail "$port: admin as $sender refused: $out"
    done
  done
  # The user admin sends as alice no more than alice as admin.
  out=$(_mail_full_swaks --port 587 --tls --auth PLAIN --auth-user admin \
    --auth-password "$_MAIL_FULL_ADMIN_PW" --from alice@example.test --to bob@example.net \
    --quit-after RCPT) && e2e_fail "admin sent as alice: $out"
  [[ "$out" =~ \<[~*]\*\ 553 ]] || e2e_fail "admin as alice: no 553: $out"
}
scenario_mail_full_mailbox_command() {
  _mail_full_up
  local pw='carol-Mailbox-1' pw2='carol-Mailbox-2' out
  _imap_login() {
    e2e_exec world -- curl -sS -k --max-time 20 -u "carol:$1" "imaps://$_MAIL_FULL_V4/INBOX" \
      -X 'EXAMINE INBOX' >/dev/null 2>&1
  }
  _imap_refused() { ! _imap_login "$1"; }
  out=$(printf '%s\n' "$pw" | e2e_exec mail -- firstboot mailbox add carol --password-stdin 2>&1) ||
    e2e_fail "mailbox add: $out"
  [[ "$out" != *"$pw"* ]] || e2e_fail "mailbox add echoed the password"
  e2e_retry 5 _imap_login "$pw" || e2e_fail "carol cannot log in over IMAPS after mailbox add"
  # Mail to her is accepted now (Postfix reloaded its map).
  out=$(_mail_full_swaks --port 25 --from someone@example.net --to carol@example.test) ||
    e2e_fail "mail to carol refused: $out"
  out=$(printf '%s\n' "$pw2" | e2e_exec mail -- firstboot mailbox passwd carol --password-stdin 2>&1) ||
    e2e_fail "mailbox passwd: $out"
  # Dovecot looks at the passwd-file at most once a second: a change counts from the next.
  e2e_retry 5 _imap_refused "$pw" || e2e_fail "the old password still works after passwd: $(
    e2e_exec mail -- doveadm auth test carol "$pw" 2>&1)"
  e2e_retry 5 _imap_login "$pw2" || e2e_fail "the new password does not work after passwd"
  # A later run keeps her.
  out=$(e2e_exec mail -- firstboot run --profile advanced --only mail --force 2>&1) || e2e_fail "run --force: $out"
  _imap_login "$pw2" || e2e_fail "run --force undid mailbox add"
  out=$(e2e_exec mail -- firstboot mailbox remove carol 2>&1) || e2e_fail "mailbox remove: $out"
  e2e_retry 5 _imap_refused "$pw2" || e2e_fail "carol still logs in after mailbox remove"
  out=$(e2e_exec mail -- grep -rs -e "$pw" -e "$pw2" /var/log/firstboot /var/log/mail.log \
    /var/log/dovecot.log 2>&1) && e2e_fail "a password is in a log: $out"
  true
}
