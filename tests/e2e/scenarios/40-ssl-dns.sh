# shellcheck shell=bash
# 7-ssl_config and 8-dns_config together, as issue 5's acceptance asks: one
# `firstboot run --only ssl --only dns` on host mail gets a certificate from
# Pebble by ACME (http-01) and publishes the domain's records, the TLSA from
# that certificate's key included, to Knot on host dns by a TSIG-signed
# update. A re-run re-issues nothing and sends nothing.
#
# Built from the helpers of 20-ssl.sh (_ssl_*) and 30-dns.sh (_dns_*), which
# the runner sources too. Mail and the zone are put back as both restore them.

# EXIT trap: first what 30-dns.sh restores (the zone's record sets, Postfix
# stopped, firstboot's rollbacks, mail's files and host name), then what
# 20-ssl.sh removes (certbot's state, cron, /etc/group). On failure
# /var/log/firstboot is kept for the runner's log dump, as _dns_end keeps it.
_ssl_dns_end() {
  local rc=$? f
  set +e
  trap - ERR # the scenario is over: a cleanup step is no reason for its failure
  (exit "$rc") # _dns_end reads the scenario's status from $?
  _dns_end
  local -a _SSL_JUNK=("${_SSL_JUNK[@]}") # what _ssl_reset removes, here
  if ((rc != 0)); then
    for f in "${!_SSL_JUNK[@]}"; do
      [[ "${_SSL_JUNK[f]}" != /var/log/firstboot ]] || unset '_SSL_JUNK[f]'
    done
  fi
  _ssl_reset || echo "warning: could not restore host mail" >&2
  return "$rc"
}

# The issued certificate's SubjectPublicKeyInfo, SHA-256, as openssl computes it.
_ssl_dns_spki() {
  e2e_exec mail -- sh -c 'openssl x509 -in "$1" -noout -pubkey |
    openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1' sh "$_SSL_CRT"
}

scenario_ssl_dns_acme_published() {
  e2e_require_firstboot
  _ssl_begin
  _dns_begin
  trap _ssl_dns_end EXIT
  local dns=${E2E_HOST_V4[dns]} v4=${E2E_HOST_V4[mail]} v6=${E2E_HOST_V6[mail]}
  _ssl_config 'ssl:' '  provider: acme' '  ca_file: /run/e2e/pebble-root.pem' \
    "  acme: {directory: \"$E2E_ACME_DIR_URL\", agree_tos: true, ca_bundle: /run/e2e/acme-tls-ca.pem}" \
    'dns:' '  publish:' "    server: $dns" '    zone: example.test' '    tsig_name: firstboot' \
    '    tsig_algorithm: hmac-sha256' '    tsig_secret_file: /etc/firstboot/tsig.key'
  e2e_put mail /etc/firstboot/tsig.key 0600 <"$E2E_STATE/shared/tsig.secret"

  local out
  out=$(_ssl_firstboot run --profile standard --only ssl --only dns)
  e2e_assert_contains "$out" "check certificate $_SSL_CRT: pass" "firstboot run"
  e2e_assert_contains "$out" "published" "firstboot run"

  # The certificate chains to Pebble's issuing root.
  out=$(e2e_exec mail -- openssl verify -CAfile /run/e2e/pebble-root.pem \
    -untrusted "$_SSL_CHAIN" "$_SSL_CRT" 2>&1) ||
    e2e_fail "openssl verify refused the certificate: $out"
  e2e_assert_eq "$_SSL_CRT: OK" "$out" "openssl verify"

  # Every record, as the authoritative server answers it. TLSA: kdig splits the
  # hash into blocks and writes it in upper case; join and lower it.
  local spf="\"v=spf1 ip4:$v4 ip6:$v6 -all\"" name type want got
  local -a expect=(
    "mail.example.test. A|$v4"
    "mail.example.test. AAAA|$v6"
    "example.test. MX|10 mail.example.test."
    "example.test. TXT|$spf"
    "mail.example.test. TXT|$spf"
    "_dmarc.example.test. TXT|\"v=DMARC1; p=quarantine; pct=100; rua=mailto:admin@example.test; fo=1; adkim=r; aspf=r\""
    "_25._tcp.mail.example.test. TLSA|3 1 1 $(_ssl_dns_spki)"
  )
  for want in "${expect[@]}"; do
    read -r name type <<<"${want%%|*}"
    got=$(e2e_dig mail @"$dns" "$name" "$type")
    if [[ "$type" == TLSA ]]; then
      got=$(awk '{ printf "%s %s %s ", $1, $2, $3; for (i = 4; i <= NF; i++) printf "%s", tolower($i) }' <<<"$got")
    fi
    e2e_assert_eq "${want#*|}" "$got" "$type $name at $dns"
  done

  out=$(_ssl_firstboot validate 8-dns_config)
  e2e_assert_check "$out" PASS dns.records "DNS records at $dns: 9 of 9 ok" "firstboot validate 8-dns_config"
  out=$(_ssl_firstboot validate ssl)
  e2e_assert_check "$out" PASS ssl.certificate "certificate $_SSL_CRT" "firstboot validate ssl"

  # A forced re-run: no new certificate, no update sent.
  local before serial
  before=$(_ssl_fingerprint "$_SSL_CRT" "$_SSL_KEY")
  serial=$(_dns_serial)
  out=$(_ssl_firstboot run --profile standard --only ssl --only dns --force)
  [[ "$out" != *"publish_records"* ]] || e2e_fail "the re-run did something to DNS: $out"
  e2e_assert_eq "$before" "$(_ssl_fingerprint "$_SSL_CRT" "$_SSL_KEY")" \
    "certificate and key after a re-run"
  e2e_assert_eq "$serial" "$(_dns_serial)" "SOA serial of example.test after the re-run"
}
