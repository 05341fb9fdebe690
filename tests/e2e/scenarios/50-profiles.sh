# shellcheck shell=bash
# The path a user takes: a fresh mail host, the whole profile, no `--only`, with
# publication configured. One `firstboot run` must leave every record the
# profile's modules declare (the DKIM record made from the key generated in
# the same run included) answered by the test DNS; the run's summary says
# "published" only for what the server answers; `validate` passes; `records
# --diff` finds nothing missing. Uses 30-dns.sh's save/restore of mail and zone.

# EXIT trap: monitoring's changes too (fail2ban stopped, jail removed), then
# the rest as 30-dns.sh puts it back.
_profiles_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  e2e_exec mail -- sh -c '
    [ -e /var/lib/firstboot/state.json ] && firstboot rollback monitoring --force
    fail2ban-client stop || pkill -x fail2ban-server
    pkill -x opendkim; pkill -x opendmarc
    for _ in $(seq 50); do pgrep -x "opendkim|opendmarc" >/dev/null || break; sleep 0.1; done
    rm -f /var/log/auth.log /var/log/fail2ban.log
    nft delete table inet firstboot
    true
  ' >/dev/null 2>&1
  (exit "$rc")
  _dns_end
}

# _profiles_whole_run PROFILE: the checks above for one profile.
_profiles_whole_run() {
  local profile=$1 out key=/etc/opendkim/keys/example.test/default.private want got
  _dns_begin
  trap _profiles_end EXIT
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")"
  # A fresh VM without the journal logs through rsyslog: the files fail2ban's sshd
  # and postfix jails read exist (empty) from its first boot.
  e2e_exec mail -- sh -c ': >>/var/log/auth.log; : >>/var/log/mail.log'
  out=$(e2e_exec mail -- firstboot run --profile "$profile" 2>&1) ||
    e2e_fail "firstboot run --profile $profile failed: $out"
  printf '%s\n' "$out"

  # The DKIM record, made from the key this very run generated.
  want=$(e2e_exec mail -- sh -c "openssl rsa -in $key -pubout -outform DER 2>/dev/null | base64 -w0")
  got=$(e2e_dig mail @"${E2E_HOST_V4[dns]}" default._domainkey.example.test TXT | sed 's/" "//g; s/"//g')
  e2e_assert_eq "v=DKIM1; k=rsa; p=$want" "$got" "DKIM record after one run of $profile"
  e2e_assert_eq "10 mail.example.test." "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" example.test MX)" "MX"

  # Every record "published" in the summary is answered by the server.
  local line name type n=0
  while read -r name type; do
    [[ -n "$name" ]] || continue
    n=$((n + 1))
    [[ -n "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" "$name" "$type")" ]] ||
      e2e_fail "the summary says $name $type was published; the server does not answer it"
  done < <(awk '/: published at /{p=1; next} p && /^  [^ ]/{print $1, $4; next} {p=0}' <<<"$out")
  ((n >= 8)) || e2e_fail "the summary lists $n published records: $out"
  e2e_assert_contains "$out" "default._domainkey.example.test." "DKIM record in the summary"

  out=$(e2e_exec mail -- firstboot records --profile "$profile" --diff --server "${E2E_HOST_V4[dns]}" 2>&1) ||
    e2e_fail "records --diff failed: $out"
  line=$(tail -n 1 <<<"$out")
  [[ "$line" == *" 0 missing, 0 different, 0 pending" ]] || e2e_fail "records --diff: $out"

  out=$(e2e_exec mail -- firstboot validate 2>&1) || e2e_fail "validate failed: $out"
  e2e_assert_check "$out" PASS dns.records "DNS records" "validate"

  # Someone deletes the DMARC record; a re-run (every module done: nothing is sent)
  # must not call it published.
  printf 'server %s\nzone example.test.\nupdate delete _dmarc.example.test. TXT\nsend\n' \
    "${E2E_HOST_V4[dns]}" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key
  out=$(e2e_exec mail -- firstboot run --profile "$profile" 2>&1) || e2e_fail "re-run failed: $out"
  [[ "$(sed -n '/not answered by/,/^[^ ]/p' <<<"$out")" == *"_dmarc.example.test."* ]] ||
    e2e_fail "the summary calls the deleted DMARC record published: $out"
}

scenario_profile_standard_whole_published() {
  _profiles_whole_run standard
}

scenario_profile_advanced_whole_published() {
  _profiles_whole_run advanced
}
