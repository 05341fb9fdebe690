# shellcheck shell=bash
# 7-ssl_config on a live root inside host mail: a certificate from Pebble by
# ACME (certbot given a CSR from the key firstboot keeps, standalone http-01),
# and a self-signed one made in-process.
# Each scenario puts mail back as it found it (see _ssl_begin).

# What these scenarios (or firstboot under them) create in mail. The certbot
# package's own /etc/letsencrypt/cli.ini is left alone.
_SSL_JUNK=(/etc/firstboot /var/lib/firstboot /var/log/firstboot
  /etc/letsencrypt/accounts /etc/letsencrypt/archive /etc/letsencrypt/live
  /etc/letsencrypt/renewal /etc/letsencrypt/renewal-hooks /etc/letsencrypt/keys
  /etc/letsencrypt/csr /var/lib/letsencrypt /var/log/letsencrypt /etc/cron.d/firstboot-acme)
_SSL_SAVED=/run/fb-e2e-ssl # inside mail: copies of the account files
# Provider acme's files: the full chain served, the kept key, the intermediates.
_SSL_CRT=/etc/firstboot/ssl/mail.example.test.crt
_SSL_KEY=/etc/firstboot/ssl/mail.example.test.key
_SSL_CHAIN=/etc/firstboot/ssl/mail.example.test.chain.pem

# Inside mail: remove what a scenario left, put /etc/group and /etc/gshadow
# back (the self-signed provider may add a group), stop a cron firstboot
# started.
_ssl_reset() {
  e2e_exec mail -- bash -c '
    saved=$1; shift
    if [[ -d "$saved" ]]; then
      cp -a "$saved/group" /etc/group && cp -a "$saved/gshadow" /etc/gshadow
    else
      mkdir -p "$saved" && cp -a /etc/group /etc/gshadow "$saved/"
    fi
    if pgrep -x cron >/dev/null; then service cron stop >/dev/null 2>&1 || pkill -x cron || true; fi
    rm -rf "$@"
  ' bash "$_SSL_SAVED" "${_SSL_JUNK[@]}"
}

_ssl_begin() {
  _ssl_reset
  trap '_ssl_reset || echo "warning: could not restore host mail" >&2' EXIT
}

# The config file for mail, with the given ssl section (YAML lines) appended.
_ssl_config() {
  e2e_mail_config "$@"
}

# firstboot inside mail; on failure the scenario fails with its last lines and
# certbot's log.
_ssl_firstboot() {
  local out rc=0
  out=$(e2e_exec mail -- firstboot "$@" 2>&1) || rc=$?
  if ((rc != 0)); then
    printf '%s\n' "$out" >&2
    e2e_exec mail -- tail -n 20 /var/log/letsencrypt/letsencrypt.log >&2 2>/dev/null || true
    e2e_fail "firstboot $* exited $rc: $(tail -n 2 <<<"$out" | paste -sd ' ')"
  fi
  printf '%s\n' "$out"
}

# SHA-256 and mtime of files inside mail (following certbot's live/ links).
_ssl_fingerprint() {
  e2e_exec mail -- stat -L -c '%n %Y' "$@"
  e2e_exec mail -- sha256sum "$@"
}

# ACME against Pebble: certbot, given a CSR from firstboot's key, gets a
# certificate that openssl verifies up to Pebble's root; a re-run does not
# re-issue; `firstboot validate ssl` passes; a forced renewal (`firstboot acme
# renew --force`) keeps the key (so a DANE 3 1 1 record stays valid).
scenario_ssl_acme_pebble() {
  e2e_require_firstboot
  _ssl_begin
  _ssl_config 'ssl:' '  provider: acme' '  ca_file: /run/e2e/pebble-root.pem' \
    "  acme: {directory: \"$E2E_ACME_DIR_URL\", agree_tos: true, ca_bundle: /run/e2e/acme-tls-ca.pem}"
  local out before after
  out=$(_ssl_firstboot run --profile standard --only ssl)
  e2e_assert_contains "$out" "certificate issued by $E2E_ACME_DIR_URL for mail.example.test (new ECDSA P-256 key)" "firstboot run"
  e2e_assert_contains "$out" "check certificate $_SSL_CRT: pass" "firstboot run"
  e2e_assert_contains "$out" "chain verifies to Pebble Root CA" "firstboot run"

  out=$(e2e_exec mail -- openssl verify -CAfile /run/e2e/pebble-root.pem \
    -untrusted "$_SSL_CHAIN" "$_SSL_CRT" 2>&1) ||
    e2e_fail "openssl verify refused the certificate: $out"
  e2e_assert_eq "$_SSL_CRT: OK" "$out" "openssl verify"
  e2e_assert_contains "$(e2e_exec mail -- openssl x509 -noout -ext subjectAltName -in "$_SSL_CRT")" \
    "DNS:mail.example.test" "subjectAltName of the issued certificate"
  e2e_assert_eq "640 root:ssl-cert" "$(e2e_exec mail -- stat -c '%a %U:%G' "$_SSL_KEY")" "key mode and owner"

  before=$(_ssl_fingerprint "$_SSL_CRT" "$_SSL_KEY")
  out=$(_ssl_firstboot run --profile standard --only ssl --force)
  after=$(_ssl_fingerprint "$_SSL_CRT" "$_SSL_KEY")
  e2e_assert_eq "$before" "$after" "certificate and key after a re-run"

  out=$(_ssl_firstboot validate ssl)
  e2e_assert_check "$out" PASS ssl.certificate "certificate $_SSL_CRT" "firstboot validate ssl"
  e2e_assert_check "$out" PASS ssl.acme_renewal "ACME retries and renewals are scheduled" "firstboot validate ssl"
  e2e_exec mail -- grep -q '^\*/5 \* \* \* \* root firstboot acme renew' /etc/cron.d/firstboot-acme ||
    e2e_fail "no firstboot acme renew in /etc/cron.d/firstboot-acme"

  # The cron job has nothing to do while the certificate is good.
  out=$(_ssl_firstboot acme renew)
  e2e_assert_contains "$out" "not due before" "firstboot acme renew"
  # A forced renewal gets a new certificate for the same key.
  spki() {
    e2e_exec mail -- sh -c 'openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum' \
      sh "$_SSL_CRT"
  }
  before=$(spki)
  local cert_before
  cert_before=$(e2e_exec mail -- sha256sum "$_SSL_CRT")
  out=$(_ssl_firstboot acme renew --force)
  e2e_assert_contains "$out" "acme: installed a certificate from $E2E_ACME_DIR_URL" "firstboot acme renew --force"
  [[ "$(e2e_exec mail -- sha256sum "$_SSL_CRT")" != "$cert_before" ]] ||
    e2e_fail "acme renew --force installed no new certificate"
  e2e_assert_eq "$before" "$(spki)" "public key after a renewal"
  out=$(_ssl_firstboot validate ssl)
  e2e_assert_check "$out" PASS ssl.certificate "certificate $_SSL_CRT" "validate after the renewal"

  # A name added to ssl.extra_names (published in DNS for http-01): the CA is
  # asked again and the certificate covers it, still with the same key.
  local extra=ssl-e2e.example.test
  _ssl_dns "add $extra. 300 A ${E2E_HOST_V4[mail]}"
  # shellcheck disable=SC2064 # the name is expanded now, while it is in scope
  trap "_ssl_dns 'delete $extra. A' || true; _ssl_reset || echo 'warning: could not restore host mail' >&2" EXIT
  _ssl_config 'ssl:' '  provider: acme' '  ca_file: /run/e2e/pebble-root.pem' "  extra_names: [$extra]" \
    "  acme: {directory: \"$E2E_ACME_DIR_URL\", agree_tos: true, ca_bundle: /run/e2e/acme-tls-ca.pem}"
  out=$(_ssl_firstboot run --profile standard --only ssl --force)
  e2e_assert_contains "$out" "certificate issued by $E2E_ACME_DIR_URL for mail.example.test, $extra (key kept)" "firstboot run with a new name"
  e2e_assert_contains "$(e2e_exec mail -- openssl x509 -noout -ext subjectAltName -in "$_SSL_CRT")" \
    "DNS:$extra" "subjectAltName after adding a name"
  e2e_assert_eq "$before" "$(spki)" "public key after adding a name"
}

# An RFC 2136 update of example.test, signed with the stage's TSIG key.
_ssl_dns() {
  printf 'server %s\nzone example.test.\nupdate %s\nsend\n' "$E2E_DNS_V4" "$1" |
    e2e_exec mail -- knsupdate -t 5 -k /run/e2e/tsig.key
}

# Self-signed on the live system: the certificate names the host and the extra
# names, the key is 0640 root:ssl-cert and matches the certificate, a re-run
# rewrites nothing, and `firstboot validate ssl` passes.
scenario_ssl_self_signed_live() {
  e2e_require_firstboot
  _ssl_begin
  _ssl_config 'ssl:' '  provider: self-signed' '  extra_names: [smtp.example.test]'
  local crt=/etc/firstboot/ssl/mail.example.test.crt key=/etc/firstboot/ssl/mail.example.test.key
  local out before after
  out=$(_ssl_firstboot run --profile standard --only ssl)
  e2e_assert_contains "$out" "check certificate $crt: pass" "firstboot run"

  out=$(e2e_exec mail -- openssl x509 -noout -ext subjectAltName -in "$crt")
  e2e_assert_contains "$out" "DNS:mail.example.test, DNS:smtp.example.test" "subjectAltName"
  e2e_assert_eq "640 root:ssl-cert" "$(e2e_exec mail -- stat -c '%a %U:%G' "$key")" "key mode and owner"
  e2e_assert_eq "644 root:root" "$(e2e_exec mail -- stat -c '%a %U:%G' "$crt")" "certificate mode and owner"
  e2e_assert_eq "$(e2e_exec mail -- openssl x509 -in "$crt" -noout -pubkey)" \
    "$(e2e_exec mail -- openssl pkey -in "$key" -pubout)" "public key of the key vs the certificate's"
  e2e_assert_eq "$crt: OK" "$(e2e_exec mail -- openssl verify -CAfile "$crt" "$crt" 2>&1)" \
    "openssl verify against itself"

  before=$(_ssl_fingerprint "$crt" "$key")
  _ssl_firstboot run --profile standard --only ssl --force >/dev/null
  after=$(_ssl_fingerprint "$crt" "$key")
  e2e_assert_eq "$before" "$after" "certificate and key after a re-run"
  out=$(_ssl_firstboot validate ssl)
  e2e_assert_check "$out" PASS ssl.certificate "certificate $crt" "firstboot validate ssl"
}
