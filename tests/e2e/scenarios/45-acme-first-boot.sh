# shellcheck shell=bash
# ACME on a first boot (issue 12): a fresh mail host whose A/AAAA records are not
# in the test DNS yet runs the whole advanced profile with provider acme against
# Pebble and publication configured. 7-ssl_config cannot get a certificate (the
# name does not resolve to mail), so it warns, serves a self-signed stand-in made
# with the key it keeps and schedules a retry, and is not rolled back;
# 8-dns_config publishes the A record and the TLSA record of that key. Then the
# retry cron runs (`firstboot acme renew -q`) gets a Pebble certificate for the
# same key: openssl verifies it up to Pebble's root, the published TLSA is
# unchanged and matches the key served, and Postfix serves the new certificate.
#
# Uses the helpers of 20-ssl.sh (_ssl_*), 30-dns.sh (_dns_*) and 50-profiles.sh
# (_profiles_end), which the runner sources too; the zone's record sets (mail's
# A/AAAA included) are put back by _dns_end.

# EXIT trap: monitoring, mail, dns and ssl undone, the zone restored, then what
# 20-ssl.sh removes (certbot's state, the cron file, cron stopped).
_acme_fb_end() {
  local rc=$?
  set +e
  trap - ERR
  (exit "$rc")
  _profiles_end
  _ssl_reset || echo "warning: could not restore host mail" >&2
  return "$rc"
}

# SHA-256 of the SubjectPublicKeyInfo of the certificate in file $1 inside mail.
_acme_fb_spki() {
  e2e_exec mail -- sh -c 'openssl x509 -noout -pubkey -in "$1" |
    openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1' sh "$1"
}

# The TLSA record of port 25 as the authoritative server answers it (hash joined
# and lower-cased, as openssl prints it).
_acme_fb_tlsa() {
  e2e_dig mail @"${E2E_HOST_V4[dns]}" _25._tcp.mail.example.test TLSA |
    awk '{ printf "%s %s %s ", $1, $2, $3; for (i = 4; i <= NF; i++) printf "%s", tolower($i) }'
}

# The certificate Postfix serves on 25 after STARTTLS: its SHA-256 fingerprint (or
# what openssl x509 prints with the options given instead).
_acme_fb_served() {
  local -a opts=("$@")
  ((${#opts[@]})) || opts=(-fingerprint -sha256)
  e2e_exec mail -- sh -c 'openssl s_client -starttls smtp -connect 127.0.0.1:25 \
    -servername mail.example.test </dev/null 2>/dev/null | openssl x509 -noout "$@"' sh "${opts[@]}"
}

# Whether Postfix serves the certificate with fingerprint $1.
_acme_fb_serves() {
  [[ "$(_acme_fb_served)" == "$1" ]]
}

scenario_acme_first_boot_stand_in_then_pebble() {
  e2e_require_firstboot
  _ssl_begin
  _dns_begin
  trap _acme_fb_end EXIT
  local dns=${E2E_HOST_V4[dns]} v4=${E2E_HOST_V4[mail]} crt=$_SSL_CRT out tlsa spki
  # A fresh name: mail's addresses are not in DNS before the first boot.
  printf 'server %s\nzone example.test.\nupdate delete mail.example.test. A\nupdate delete mail.example.test. AAAA\nsend\n' \
    "$dns" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key
  [[ -z "$(e2e_dig mail @"$dns" mail.example.test A)" ]] || e2e_fail "mail's A record is still served"
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")" \
    'ssl:' '  provider: acme' '  ca_file: /run/e2e/pebble-root.pem' \
    "  acme: {directory: \"$E2E_ACME_DIR_URL\", agree_tos: true, ca_bundle: /run/e2e/acme-tls-ca.pem}"
  e2e_exec mail -- sh -c ': >>/var/log/auth.log; : >>/var/log/mail.log'

  out=$(e2e_exec mail -- firstboot run --profile advanced 2>&1) ||
    e2e_fail "firstboot run --profile advanced failed: $out"
  printf '%s\n' "$out"
  e2e_assert_contains "$out" "WARNING: no certificate from the CA yet: mail.example.test does not resolve to this host yet" "run output"
  e2e_assert_contains "$out" "a self-signed stand-in made with the kept key is installed" "run output"
  e2e_assert_contains "$out" "check certificate $crt: warn ACME has not succeeded yet" "run output"
  e2e_assert_contains "$out" "7-ssl_config: ok" "run output"
  # ssl.ca_file is set: the stand-in is a self-signed warning in mail's TLS checks, not
  # a chain failure that would roll mail back.
  e2e_assert_contains "$out" "check TLS on 25 (SMTP, STARTTLS): warn self-signed" "run output"
  e2e_assert_contains "$out" "9-mail_config: ok" "run output"
  [[ "$(e2e_exec mail -- openssl x509 -in "$crt" -noout -issuer)" == *"CN = mail.example.test"* ]] ||
    e2e_fail "the stand-in is not self-signed: $(e2e_exec mail -- openssl x509 -in "$crt" -noout -issuer)"

  # 8-dns_config published the address and the TLSA of the kept key.
  e2e_assert_eq "$v4" "$(e2e_dig mail @"$dns" mail.example.test A)" "A record after the run"
  spki=$(_acme_fb_spki "$crt")
  tlsa=$(_acme_fb_tlsa)
  e2e_assert_eq "3 1 1 $spki" "$tlsa" "TLSA after the run"

  out=$(e2e_exec mail -- firstboot validate ssl 2>&1) || e2e_fail "validate ssl failed: $out"
  e2e_assert_check "$out" WARN ssl.certificate "certificate $crt" "validate ssl with the stand-in"
  out=$(e2e_exec mail -- firstboot validate ssl --json 2>&1) || e2e_fail "validate ssl --json failed: $out"
  e2e_assert_contains "$out" "ACME has not succeeded yet (next try from " "validate ssl --json with the stand-in"
  e2e_assert_contains "$out" "does not resolve to this host yet" "validate ssl --json with the stand-in"

  # What cron runs, by hand (cron stopped: no concurrent try). Within the backoff
  # the CA is not asked; once it is over (moved back here, as 5 minutes would),
  # the certificate comes from Pebble.
  e2e_exec mail -- sh -c 'service cron stop >/dev/null 2>&1 || pkill -x cron || true'
  out=$(e2e_exec mail -- firstboot acme renew 2>&1) || e2e_fail "acme renew within the backoff: $out"
  e2e_assert_contains "$out" "acme: next try from" "acme renew within the backoff"
  e2e_exec mail -- sed -i 's/"next_try": [0-9]*/"next_try": 0/' /var/lib/firstboot/acme.json
  out=$(e2e_exec mail -- firstboot acme renew -q 2>&1) || e2e_fail "firstboot acme renew -q failed: $out"

  out=$(e2e_exec mail -- openssl verify -CAfile /run/e2e/pebble-root.pem \
    -untrusted "$_SSL_CHAIN" "$crt" 2>&1) || e2e_fail "openssl verify refused the certificate: $out"
  e2e_assert_eq "$crt: OK" "$out" "openssl verify of the retried certificate"
  e2e_assert_eq "$spki" "$(_acme_fb_spki "$crt")" "public key after the retry"
  e2e_assert_eq "$tlsa" "$(_acme_fb_tlsa)" "TLSA after the retry"

  # Postfix was reloaded: it serves the new certificate, with the same key.
  local want
  want=$(e2e_exec mail -- openssl x509 -in "$crt" -noout -fingerprint -sha256)
  e2e_retry 10 _acme_fb_serves "$want" || e2e_fail "postfix serves $(_acme_fb_served), not $want"
  e2e_assert_eq "$spki" "$(_acme_fb_served -pubkey |
    e2e_exec mail -- sh -c 'openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1')" "key served by postfix"

  e2e_exec mail -- service cron start >/dev/null 2>&1 # as the run left it
  out=$(e2e_exec mail -- firstboot validate ssl 2>&1) || e2e_fail "validate ssl after the retry: $out"
  e2e_assert_check "$out" PASS ssl.certificate "certificate $crt" "validate ssl after the retry"
  out=$(e2e_exec mail -- firstboot validate mail --json 2>&1) || true
  _mail_full_tls_is "$out" tls.smtp pass "chain verifies to Pebble Root CA" "serves $crt"
  out=$(e2e_exec mail -- firstboot acme status 2>&1)
  e2e_assert_contains "$out" "from the CA, valid until" "acme status"
  e2e_assert_contains "$out" "failures:    0" "acme status"

  # Leaving ACME: the next run removes its cron job (backed up); the plan says so.
  e2e_exec mail -- sed -i 's/^  provider: acme$/  provider: self-signed/' /etc/firstboot/config.yaml
  out=$(e2e_exec mail -- firstboot plan --profile advanced 2>&1) || e2e_fail "plan after leaving acme: $out"
  e2e_assert_contains "$out" "x absent /etc/cron.d/firstboot-acme: remove (backed up: a rollback puts it back)" "plan after leaving acme"
}
