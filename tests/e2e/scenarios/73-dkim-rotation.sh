# shellcheck shell=bash
# DKIM key rotation on the test DNS, as a user drives it: after a whole standard run
# with publication, `firstboot dkim rotate` three times takes the rotation through its
# stages: (1) the new selector's key is made and its record published beside the old
# one, which still signs; (2) signing moves to the new selector, the old record stays;
# (3) once mail.dkim.retire_after (2 s here) has passed, the old record is withdrawn from
# the zone. A later whole run keeps the new selector. Uses 30-dns.sh's save/restore
# and 70-mail-local.sh's look into bob's Maildir on world.

_DKIM_NEW=s2027

# EXIT trap: the rotation's record and keys too, then the rest as 30-dns.sh does.
_dkim_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  printf 'server %s\nzone example.test.\nupdate delete %s._domainkey.example.test. TXT\nsend\n' \
    "${E2E_HOST_V4[dns]}" "$_DKIM_NEW" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key >/dev/null 2>&1
  e2e_exec mail -- rm -rf /etc/opendkim/keys/example.test >/dev/null 2>&1
  (exit "$rc")
  _dns_end
}

# _dkim_record SELECTOR: its TXT record as the test DNS answers it (strings joined).
_dkim_record() {
  e2e_dig mail @"${E2E_HOST_V4[dns]}" "$1._domainkey.example.test" TXT | sed 's/" "//g; s/"//g'
}

# _dkim_want SELECTOR: the record its key on mail should publish.
_dkim_want() {
  local der
  der=$(e2e_exec mail -- sh -c "openssl rsa -in /etc/opendkim/keys/example.test/$1.private -pubout -outform DER 2>/dev/null | base64 -w0")
  echo "v=DKIM1; k=rsa; p=$der"
}

scenario_dkim_rotation_through_all_stages() {
  _dns_begin
  trap _dkim_end EXIT
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")" "mail:" "  dkim: {retire_after: 2s}"
  local out new=$_DKIM_NEW old_want
  out=$(e2e_exec mail -- firstboot run --profile standard 2>&1) || e2e_fail "first run failed: $out"
  old_want=$(_dkim_want default)
  e2e_assert_eq "$old_want" "$(_dkim_record default)" "DKIM record after the first run"

  # Stage 1: the new key and record, signing unchanged.
  out=$(e2e_exec mail -- firstboot dkim rotate --selector "$new" 2>&1) || e2e_fail "rotate (start) failed: $out"
  e2e_assert_contains "$out" "dkim: $new made, its record is answered; default still signs" "rotate (start)"
  e2e_assert_eq "$(_dkim_want "$new")" "$(_dkim_record "$new")" "the new selector's record"
  e2e_assert_eq "$old_want" "$(_dkim_record default)" "the old record while it signs"
  out=$(e2e_exec mail -- firstboot dkim status 2>&1) || e2e_fail "status failed: $out"
  e2e_assert_contains "$out" "signing selector: default" "status after the start"

  # Stage 2: signing moves on; the old record stays published.
  out=$(e2e_exec mail -- firstboot dkim rotate 2>&1) || e2e_fail "rotate (switch) failed: $out"
  e2e_assert_contains "$out" "dkim: $new signs now; default stays published until" "rotate (switch)"
  out=$(e2e_exec mail -- firstboot dkim status 2>&1) || e2e_fail "status failed: $out"
  e2e_assert_contains "$out" "signing selector: $new" "status after the switch"
  e2e_assert_eq "$old_want" "$(_dkim_record default)" "the retired record before retire_after"
  # What a receiver sees: mail sent now is signed with the new selector and verifies.
  local token file
  token="fb-e2e-rotation-$RANDOM$RANDOM"
  printf 'From: admin@example.test\nTo: bob@example.net\nSubject: e2e %s\n\ntoken %s\n' "$token" "$token" |
    e2e_exec mail -- sendmail -f admin@example.test bob@example.net || e2e_fail "sendmail on mail failed"
  file=$(e2e_retry 30 _mail_local_at_world "$token") || e2e_fail "no message with $token at world after the switch"
  e2e_assert_contains "$(e2e_exec world -- cat "$file")" "s=$new;" "the signature's selector after the switch"
  e2e_assert_contains "$(e2e_exec world -- sh -c 'dkimverify <"$1"' sh "$file" 2>&1)" "signature ok" "dkimverify after the switch"

  # Stage 3: after retire_after, the old record is withdrawn; the new one stays.
  sleep 3
  out=$(e2e_exec mail -- firstboot dkim rotate 2>&1) || e2e_fail "rotate (withdraw) failed: $out"
  e2e_assert_contains "$out" "withdrew default._domainkey.example.test" "rotate (withdraw)"
  e2e_assert_eq "" "$(_dkim_record default)" "the old record after the rotation"
  e2e_assert_eq "$(_dkim_want "$new")" "$(_dkim_record "$new")" "the new record after the rotation"
  out=$(e2e_exec mail -- firstboot dkim status 2>&1) || e2e_fail "status failed: $out"
  e2e_assert_contains "$out" "rotation: none in progress" "status after the rotation"

  # A later whole run keeps the new selector and makes no key.
  out=$(e2e_exec mail -- firstboot run --profile standard --force 2>&1) || e2e_fail "re-run failed: $out"
  out=$(e2e_exec mail -- firstboot dkim status 2>&1)
  e2e_assert_contains "$out" "signing selector: $new" "status after a re-run"
  e2e_assert_eq "" "$(_dkim_record default)" "no old record after a re-run"
}
