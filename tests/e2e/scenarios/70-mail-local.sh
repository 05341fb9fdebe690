# shellcheck shell=bash
# 9-mail_config in local mode, as a user runs it: a fresh `mail` host, the whole
# standard profile (no --only) with publication to the test DNS, then what the
# world sees of it: TLS on port 25 as testssl.sh grades it. Uses 30-dns.sh's
# save/restore of mail and the zone.

# EXIT trap: the test user removed, the rest as 30-dns.sh puts it back
# (rollback of the modules, files, zone), then the milters this mode started
# stopped.
_mail_local_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  e2e_exec mail -- sh -c 'userdel -r carol; true' >/dev/null 2>&1
  (exit "$rc")
  _dns_end
  rc=$?
  # After the rollback, which restarts the services it touched.
  e2e_exec mail -- sh -c '
    for s in opendkim opendmarc; do service "$s" stop; done
    pkill -x opendkim; pkill -x opendmarc
    for _ in $(seq 50); do pgrep -x "opendkim|opendmarc" >/dev/null || break; sleep 0.1; done
    true
  ' >/dev/null 2>&1
  return "$rc"
}

# _mail_local_run: the whole standard profile on a fresh mail, published.
_mail_local_run() {
  local out
  _dns_begin
  trap _mail_local_end EXIT
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")"
  # No syslog daemon runs in test hosts: postlogd writes mail.log itself.
  e2e_exec mail -- sh -c 'cat >>/etc/firstboot/config.yaml' <<<$'mail:\n  maillog_file: /var/log/mail.log'
  out=$(e2e_exec mail -- firstboot run --profile standard 2>&1) ||
    e2e_fail "firstboot run --profile standard failed: $out"
  e2e_retry 10 e2e_exec mail -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' ||
    e2e_fail "postfix in mail does not listen on port 25"
}

# testssl.sh from world against mail's port 25 (STARTTLS): no HIGH or CRITICAL
# finding but the self-signed certificate's trust: no chain to a trusted root
# (cert_chain_of_trust), and no CA to give a CRL or OCSP URI (cert_revocation).
scenario_mail_local_tls_testssl() {
  _mail_local_run
  local csv=/tmp/testssl-mail25.csv found
  e2e_exec world -- rm -f "$csv"
  e2e_exec world -- testssl --quiet --color 0 --warnings off --ip one --nodns min \
    --openssl-timeout 5 --starttls smtp --csvfile "$csv" \
    "${E2E_HOST_FQDN[mail]}:25" >"$E2E_STATE/logs/testssl-mail25.txt" 2>&1 || true
  e2e_exec world -- test -s "$csv" || e2e_fail "testssl wrote no result: $(tail -n 5 "$E2E_STATE/logs/testssl-mail25.txt")"
  # Fields: "id","fqdn/ip","port","severity","finding",...
  e2e_exec world -- cat "$csv" >"$E2E_STATE/logs/testssl-mail25.csv"
  found=$(e2e_exec world -- awk -F'","' '($4 == "HIGH" || $4 == "CRITICAL") && $1 !~ /^"cert_(chain_of_trust|revocation)$/' "$csv")
  [[ -z "$found" ]] || e2e_fail "testssl on mail:25 finds: $found"
  # The scan did look: TLS 1.2 offered, TLS 1.0 not, and the server's cipher order.
  local all
  all=$(e2e_exec world -- cat "$csv")
  grep -q '^"TLS1_2","[^"]*","25","[A-Z]*","offered' <<<"$all" || e2e_fail "TLS 1.2 not offered: $(grep '^"TLS1_2"' <<<"$all")"
  grep -q '^"TLS1","[^"]*","25","[A-Z]*","not offered' <<<"$all" || e2e_fail "TLS 1.0 offered: $(grep '^"TLS1"' <<<"$all")"
  grep -q '^"cipher_order[^"]*","[^"]*","25","OK"' <<<"$all" || e2e_fail "no server cipher order: $(grep '^"cipher_order' <<<"$all")"
}

# The message on world (bob's Maildir) holding $1, as a path.
_mail_local_at_world() {
  local f
  f=$(e2e_exec world -- sh -c 'grep -l -- "$1" /home/bob/Maildir/new/* 2>/dev/null | head -n 1' sh "$1")
  [[ -n "$f" ]] && printf '%s\n' "$f"
}

# On world, with the tools we did not write: dkimverify's verdict (python3-dkim,
# keys from the test DNS), pyspf's for the client address and envelope sender,
# and the DMARC result computed from both (alignment with the From domain, the
# policy record present). Prints "dkim=... d=... spf=... dmarc=...".
_MAIL_LOCAL_AUTH='
import sys, re, email, dkim, spf, dns.resolver
path, ip, sender, helo = sys.argv[1:5]
raw = open(path, "rb").read()
msg = email.message_from_bytes(raw)
ok = dkim.verify(raw)
sig = msg.get("DKIM-Signature", "")
m = re.search(r"\bd=([^;\s]+)", sig)
d = m.group(1).lower() if m else "-"
res, _ = spf.check2(i=ip, s=sender, h=helo)
frm = email.utils.parseaddr(msg.get("From", ""))[1].rpartition("@")[2].lower()
env = sender.rpartition("@")[2].lower()
def aligned(a, b):
    return a == b or a.endswith("." + b) or b.endswith("." + a)
policy = [r.to_text() for r in dns.resolver.resolve("_dmarc." + frm, "TXT")]
has = any("v=DMARC1" in p for p in policy)
dmarc = "pass" if has and ((ok and aligned(d, frm)) or (res == "pass" and aligned(env, frm))) else "fail"
print("dkim=%s d=%s spf=%s dmarc=%s" % ("pass" if ok else "fail", d, res, dmarc))
'

# Mail from mail to bob@example.net, once submitted locally (sendmail: the
# non-SMTP milter path) and once over SMTP on 127.0.0.1 (smtpd's milters),
# arrives on world DKIM-signed by example.test: dkimverify passes against the
# test DNS, pyspf says pass for mail's address, DMARC computed from both passes;
# validate's mail.loopback says the same of its own probe.
scenario_mail_local_signed_to_world() {
  _mail_local_run
  local token file verdict how ip
  for how in sendmail smtp; do
    token="fb-e2e-$how-$RANDOM$RANDOM"
    if [[ "$how" == sendmail ]]; then
      printf 'From: admin@example.test\nTo: bob@example.net\nSubject: e2e %s\n\ntoken %s\n' "$token" "$token" |
        e2e_exec mail -- sendmail -f admin@example.test bob@example.net ||
        e2e_fail "sendmail on mail failed"
    else
      e2e_exec mail -- swaks --server 127.0.0.1 --helo mail.example.test \
        --from admin@example.test --to bob@example.net \
        --header "Subject: e2e $token" --body "token $token" >/dev/null 2>&1 ||
        e2e_fail "swaks to mail's 127.0.0.1:25 failed"
    fi
    file=$(e2e_retry 30 _mail_local_at_world "$token") ||
      e2e_fail "no message with $token ($how) in world:/home/bob/Maildir/new; mail's log: $(e2e_exec mail -- tail -n 5 /var/log/mail.log)"
    e2e_assert_contains "$(e2e_exec world -- cat "$file")" "DKIM-Signature:" "message sent by $how"
    e2e_assert_contains "$(e2e_exec world -- cat "$file")" "d=example.test" "message sent by $how"
    # pyspf for each of mail's addresses (it sends over either).
    for ip in "${E2E_HOST_V4[mail]}" "${E2E_HOST_V6[mail]}"; do
      verdict=$(e2e_exec world -- /usr/bin/python3 -c "$_MAIL_LOCAL_AUTH" "$file" "$ip" \
        admin@example.test mail.example.test 2>&1) || e2e_fail "verdict ($how, $ip): $verdict"
      e2e_assert_eq "dkim=pass d=example.test spf=pass dmarc=pass" "$verdict" "authentication of mail sent by $how from $ip"
    done
  done
  # And what dkimverify itself says, on the last one.
  e2e_assert_contains "$(e2e_exec world -- sh -c 'dkimverify <"$1"' sh "$file" 2>&1)" "signature ok" "dkimverify"
  # firstboot's own end-to-end check agrees in local mode: its probe, held once signed,
  # passes DKIM, SPF and DMARC for both addresses and leaves nothing queued.
  e2e_assert_loopback pass "dkim=pass spf=pass dmarc=pass" "in local mode"
}

# An input Postfix refuses (a log file outside its maillog_file_prefixes, which our
# own input check cannot know: Postfix's tools stop at the first step that runs one,
# before `postfix check` would) rolls 9-mail_config back with exit 1, and the
# configuration that worked before still delivers, signed.
scenario_mail_local_refused_input_rolls_back_mail_still_flows() {
  _mail_local_run
  local out rc=0 token file
  e2e_exec mail -- sed -i 's|maillog_file: /var/log/mail.log|maillog_file: /tmp/mail.log|' \
    /etc/firstboot/config.yaml
  out=$(e2e_exec mail -- firstboot run --profile standard 2>&1) || rc=$?
  e2e_assert_eq 1 "$rc" "exit status of a run Postfix's check refuses ($out)"
  e2e_assert_contains "$out" "module 9-mail_config failed and was rolled back" "the run's error"
  e2e_assert_contains "$out" "does not match any prefix in maillog_file_prefixes" "Postfix's own reason"
  e2e_assert_eq "/var/log/mail.log" "$(e2e_exec mail -- postconf -h maillog_file)" "main.cf after the rollback"
  e2e_exec mail -- postfix check || e2e_fail "postfix check fails after the rollback"
  token="fb-e2e-after-rollback-$RANDOM$RANDOM"
  printf 'From: admin@example.test\nTo: bob@example.net\nSubject: e2e %s\n\ntoken %s\n' "$token" "$token" |
    e2e_exec mail -- sendmail -f admin@example.test bob@example.net || e2e_fail "sendmail on mail failed"
  file=$(e2e_retry 30 _mail_local_at_world "$token") ||
    e2e_fail "no message with $token at world after the rollback; mail's log: $(e2e_exec mail -- tail -n 5 /var/log/mail.log)"
  e2e_assert_contains "$(e2e_exec world -- cat "$file")" "DKIM-Signature:" "message sent after the rollback"
}

# Mail from world (bob@example.net, through world's Postfix and the MX of
# example.test) to carol, a local user on mail, lands in /var/mail/carol with
# Received-SPF from the SPF policy agent and OpenDMARC's Authentication-Results.
# With OpenDMARC stopped, mail still arrives (fail open) and validate says
# which daemon is down while the fail-open check passes.
scenario_mail_local_inbound_spf_dmarc() {
  _mail_local_run
  e2e_exec mail -- useradd --create-home carol
  local token msg out
  # shellcheck disable=SC2317 # called through e2e_retry
  _mail_local_at_carol() {
    e2e_exec mail -- grep -q -- "$1" /var/mail/carol 2>/dev/null
  }
  token="fb-e2e-in-$RANDOM$RANDOM"
  e2e_exec world -- swaks --server 127.0.0.1 --helo mx.example.net --from bob@example.net \
    --to carol@example.test --header "Subject: e2e $token" --body "token $token" >/dev/null 2>&1 ||
    e2e_fail "swaks on world failed"
  e2e_retry 30 _mail_local_at_carol "$token" ||
    e2e_fail "no message with $token in mail:/var/mail/carol; mail's log: $(e2e_exec mail -- tail -n 8 /var/log/mail.log)"
  msg=$(e2e_exec mail -- cat /var/mail/carol)
  e2e_assert_contains "$msg" "Received-SPF: " "message from world"
  e2e_assert_contains "$msg" "Authentication-Results: mail.example.test; dmarc=" "message from world (OpenDMARC)"

  # Fail open: OpenDMARC down, mail still delivered.
  e2e_exec mail -- sh -c 'service opendmarc stop || pkill -x opendmarc' >/dev/null 2>&1
  e2e_retry 10 e2e_exec mail -- sh -c '! pgrep -x opendmarc' >/dev/null ||
    e2e_fail "opendmarc did not stop"
  token="fb-e2e-open-$RANDOM$RANDOM"
  e2e_exec world -- swaks --server 127.0.0.1 --helo mx.example.net --from bob@example.net \
    --to carol@example.test --header "Subject: e2e $token" --body "token $token" >/dev/null 2>&1 ||
    e2e_fail "swaks on world failed (opendmarc down)"
  e2e_retry 30 _mail_local_at_carol "$token" ||
    e2e_fail "with opendmarc down, no message with $token in mail:/var/mail/carol: $(e2e_exec mail -- tail -n 8 /var/log/mail.log)"
  out=$(e2e_exec mail -- firstboot validate mail 2>&1) && e2e_fail "validate passes with opendmarc down: $out"
  e2e_assert_check "$out" FAIL opendmarc.running "opendmarc runs" "validate with opendmarc down"
  e2e_assert_check "$out" PASS mail.fail_open "SPF and DMARC checks fail open" "validate with opendmarc down"
}

# mail.mailbox: mail from world to carol, a local user, lands in /var/mail/carol by
# default (mbox); once the config says `mailbox: maildir` and firstboot runs again, the
# next message is a file of hers in ~carol/Maildir/new and the mbox file gets no more.
scenario_mail_local_maildir() {
  _mail_local_run
  e2e_exec mail -- useradd --create-home carol
  local token1 token2 out file
  # shellcheck disable=SC2317 # called through e2e_retry
  _maildir_file() {
    e2e_exec mail -- sh -c 'grep -l -- "$1" /home/carol/Maildir/new/* 2>/dev/null | head -n 1' sh "$1" |
      grep .
  }
  token1="fb-e2e-mbox-$RANDOM$RANDOM"
  e2e_exec world -- swaks --server 127.0.0.1 --helo mx.example.net --from bob@example.net \
    --to carol@example.test --header "Subject: e2e $token1" --body "token $token1" >/dev/null 2>&1 ||
    e2e_fail "swaks on world failed (mbox)"
  e2e_retry 30 e2e_exec mail -- grep -q -- "$token1" /var/mail/carol ||
    e2e_fail "no message with $token1 in mail:/var/mail/carol; mail's log: $(e2e_exec mail -- tail -n 8 /var/log/mail.log)"
  e2e_exec mail -- test ! -e /home/carol/Maildir || e2e_fail "a Maildir exists in mbox mode"

  e2e_exec mail -- sh -c 'cat >>/etc/firstboot/config.yaml' <<<'  mailbox: maildir'
  out=$(e2e_exec mail -- firstboot run --profile standard 2>&1) ||
    e2e_fail "firstboot run with mail.mailbox maildir failed: $out"
  e2e_assert_eq "Maildir/" "$(e2e_exec mail -- postconf -h home_mailbox)" "home_mailbox"
  token2="fb-e2e-maildir-$RANDOM$RANDOM"
  e2e_exec world -- swaks --server 127.0.0.1 --helo mx.example.net --from bob@example.net \
    --to carol@example.test --header "Subject: e2e $token2" --body "token $token2" >/dev/null 2>&1 ||
    e2e_fail "swaks on world failed (maildir)"
  file=$(e2e_retry 30 _maildir_file "$token2") ||
    e2e_fail "no message with $token2 in mail:/home/carol/Maildir/new; mail's log: $(e2e_exec mail -- tail -n 8 /var/log/mail.log)"
  e2e_assert_eq "carol 600" "$(e2e_exec mail -- stat -c '%U %a' "$file")" "owner and mode of $file"
  e2e_assert_contains "$(e2e_exec mail -- cat "$file")" "Received-SPF: " "the Maildir message"
  ! e2e_exec mail -- grep -q -- "$token2" /var/mail/carol || e2e_fail "$token2 went to /var/mail/carol too"
}
