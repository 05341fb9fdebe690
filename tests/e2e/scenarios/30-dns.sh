# shellcheck shell=bash
# 8-dns_config against the real name server: `firstboot run --only ssl --only
# dns` on host mail publishes the domain's records (TLSA from the self-signed
# certificate included) to Knot on host dns by a TSIG-signed RFC 2136 update,
# `validate` and `records --diff` see them, a re-run sends nothing, and a wrong
# key is refused with a clear error, the zone unchanged. 9-mail_config's DKIM
# key and record go the same way.
#
# Each scenario puts back what it changed: the zone's record sets it touched
# (captured before, restored with knsupdate and the harness's key) and mail's
# files, host name and firstboot state.

# Record sets the DNS module may change in example.test.
_DNS_RRSETS=("example.test. MX" "example.test. TXT" "mail.example.test. A"
  "mail.example.test. AAAA" "mail.example.test. TXT" "_dmarc.example.test. TXT"
  "_25._tcp.mail.example.test. TLSA" "default._domainkey.example.test. TXT")
_DNS_SAVE=/run/fb-e2e-dns
# /etc/group and /etc/gshadow: 7-ssl_config may add the ssl-cert group.
_DNS_MAIL_FILES=(/etc/hostname /etc/hosts /etc/mailname /etc/group /etc/gshadow
  /etc/passwd /etc/shadow)

# kdig against the authoritative server, answers only.
_dns_ask() {
  e2e_exec mail -- kdig +noall +answer +time=2 +retry=1 @"${E2E_HOST_V4[dns]}" "$@"
}

# The record sets we may touch, as zone lines (sorted), for before/after.
_dns_rrsets() {
  local s
  for s in "${_DNS_RRSETS[@]}"; do
    # shellcheck disable=SC2086 # "name type" splits on purpose
    _dns_ask $s
  done | sort
}

_dns_serial() {
  _dns_ask example.test SOA | awk '{print $7}'
}

# Inside mail: save the files firstboot writes; the zone's record sets too.
_dns_begin() {
  e2e_require_firstboot
  e2e_exec mail -- sh -c '
    set -eu
    save=$1
    shift
    rm -rf "$save" && mkdir -p "$save"
    for f in "$@"; do
      if [ -e "$f" ]; then cp -a "$f" "$save/$(echo "$f" | tr / _)"; fi
    done
    hostname >"$save/uts"
  ' sh "$_DNS_SAVE" "${_DNS_MAIL_FILES[@]}"
  _dns_rrsets >"$E2E_STATE/dns-before.txt"
  trap _dns_end EXIT
}

# EXIT trap: the zone and mail as they were.
_dns_end() {
  local rc=$? s update
  set +e
  update="server ${E2E_HOST_V4[dns]}"$'\n'"zone example.test."$'\n'
  for s in "${_DNS_RRSETS[@]}"; do
    update+="update delete $s"$'\n'
  done
  while read -r line; do
    [[ -n "$line" ]] && update+="update add $line"$'\n'
  done <"$E2E_STATE/dns-before.txt"
  update+="send"$'\n'
  printf '%s' "$update" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key ||
    echo "warning: could not restore example.test" >&2
  # What the modules changed (files, the DKIM key, services they started), by firstboot.
  # Postfix first, while its main.cf is still there.
  e2e_exec mail -- sh -c '
    if pgrep -x master >/dev/null; then postfix stop || postfix abort || pkill -x master; fi
    for _ in $(seq 50); do pgrep -x master >/dev/null || break; sleep 0.1; done
    if [ -e /var/lib/firstboot/state.json ]; then
      firstboot rollback mail --force || true
      firstboot rollback dns --force || true
      firstboot rollback ssl --force || true
    fi
  ' >/dev/null 2>&1
  e2e_exec mail -- sh -c '
    save=$1
    shift
    for f in "$@"; do
      rm -f "$f"
      s="$save/$(echo "$f" | tr / _)"
      if [ -e "$s" ]; then cp -a "$s" "$f"; fi
    done
    hostname "$(cat "$save/uts")"
    rm -rf /etc/firstboot /var/lib/firstboot "$save"
    [ "$0" = keep ] || rm -rf /var/log/firstboot
  ' "$( ((rc == 0)) && echo drop || echo keep)" "$_DNS_SAVE" "${_DNS_MAIL_FILES[@]}" ||
    echo "warning: could not restore host mail" >&2
  return "$rc"
}

# The config: the mail host's facts, publication to dns with the key in $1, then
# any further config lines given.
_dns_config() {
  local secret=$1
  shift
  e2e_mail_config \
    "dns:" \
    "  publish:" \
    "    server: ${E2E_HOST_V4[dns]}" \
    "    zone: example.test" \
    "    tsig_name: firstboot" \
    "    tsig_algorithm: hmac-sha256" \
    "    tsig_secret_file: /etc/firstboot/tsig.key" \
    "$@"
  printf '%s\n' "$secret" | e2e_put mail /etc/firstboot/tsig.key 0600
}

scenario_dns_publish_tsig() {
  _dns_begin
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")"
  local out serial v4=${E2E_HOST_V4[mail]} v6=${E2E_HOST_V6[mail]}
  out=$(e2e_exec mail -- firstboot run --profile standard --only ssl --only dns 2>&1) ||
    e2e_fail "firstboot run failed: $out"
  e2e_assert_contains "$out" "published" "run output"
  e2e_assert_contains "$out" "you must add these at your DNS provider" "run summary"
  e2e_assert_contains "$out" "$(e2e_reverse_name "$v4")" "PTR request in the summary"

  # Every record, as the authoritative server answers it, with its signature.
  local spf="\"v=spf1 ip4:$v4 ip6:$v6 -all\""
  e2e_assert_eq "10 mail.example.test." "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" example.test MX)" "MX"
  e2e_assert_eq "$spf" "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" example.test TXT)" "SPF of the domain"
  e2e_assert_eq "$spf" "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" mail.example.test TXT)" "SPF of the HELO name"
  e2e_assert_eq '"v=DMARC1; p=quarantine; pct=100; rua=mailto:admin@example.test; fo=1; adkim=r; aspf=r"' \
    "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" _dmarc.example.test TXT)" "DMARC"
  e2e_assert_eq "$v4" "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" mail.example.test A)" "A"
  e2e_assert_eq "$v6" "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" mail.example.test AAAA)" "AAAA"
  e2e_assert_eq "3600" "$(_dns_ask example.test MX | awk '{print $2}')" "TTL of the MX"
  # DANE: 3 1 1 and the SHA-256 of the certificate's public key, as openssl computes it.
  local spki
  spki=$(e2e_exec mail -- sh -c 'openssl x509 -in /etc/firstboot/ssl/mail.example.test.crt -noout -pubkey |
    openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1')
  e2e_assert_eq "311$spki" \
    "$(e2e_dig mail @"${E2E_HOST_V4[dns]}" _25._tcp.mail.example.test TLSA | tr -d ' ' | tr 'A-F' 'a-f')" "TLSA"
  e2e_assert_contains "$(e2e_exec mail -- kdig +dnssec +noall +answer @"${E2E_HOST_V4[dns]}" _dmarc.example.test TXT)" \
    "RRSIG" "DMARC record signed by the zone"
  # The zone fragment and table of the run.
  e2e_assert_contains "$(e2e_exec mail -- cat /var/log/firstboot/dns/8-dns_config.zone)" \
    '_dmarc.example.test.' "zone fragment"
  e2e_assert_contains "$(e2e_exec mail -- cat /var/log/firstboot/dns/8-dns_config.txt)" \
    '_dmarc' "table"

  # With ssl: outputs.ssl (the certificate, for TLSA) exist only for selected modules.
  out=$(e2e_exec mail -- firstboot validate ssl dns 2>&1) || e2e_fail "validate ssl dns failed: $out"
  e2e_assert_check "$out" PASS dns.records "DNS records at ${E2E_HOST_V4[dns]}: 9 of 9 ok" "validate"

  out=$(e2e_exec mail -- firstboot records --only ssl --only dns --diff --server "${E2E_HOST_V4[dns]}" 2>&1) ||
    e2e_fail "records --diff failed: $out"
  printf '%s\n' "$out"
  [[ "$out" == *$'\n'"9 ok, 0 missing, 0 different, 0 pending"* ]] ||
    e2e_fail "records --diff: $(tail -n 1 <<<"$out")"

  # A re-run sends nothing: the plan says so and the zone's serial stays.
  serial=$(_dns_serial)
  out=$(e2e_exec mail -- firstboot plan --profile standard --only ssl --only dns --force 2>&1) ||
    e2e_fail "plan failed: $out"
  e2e_assert_contains "$out" "already answers all 7 record sets" "plan after publication"
  out=$(e2e_exec mail -- firstboot run --profile standard --only ssl --only dns --force 2>&1) ||
    e2e_fail "re-run failed: $out"
  [[ "$out" != *"publish_records"* ]] || e2e_fail "the re-run did something to DNS: $out"
  e2e_assert_eq "$serial" "$(_dns_serial)" "SOA serial after the re-run"
}

scenario_dns_publish_wrong_key() {
  _dns_begin
  local out rc before serial wrong mailname
  wrong=$(cut -d: -f3 "$E2E_STATE/shared/tsig-wrong.key")
  mailname=$(e2e_exec mail -- sh -c 'cat /etc/mailname 2>/dev/null || echo absent')
  serial=$(_dns_serial)
  before=$(_dns_rrsets)

  # A secret file that is not base64: refused while planning, nothing changed.
  _dns_config "not base64!"
  rc=0
  out=$(e2e_exec mail -- firstboot run --profile standard --only dns 2>&1) || rc=$?
  e2e_assert_eq 2 "$rc" "exit status with a malformed secret (an input error: nothing changed)"
  e2e_assert_contains "$out" "dns.publish.tsig_secret_file: /etc/firstboot/tsig.key does not hold a base64 TSIG secret" \
    "malformed secret error"
  [[ "$out" != *"not base64!"* ]] || e2e_fail "the secret file's contents were shown: $out"
  e2e_assert_eq "$mailname" "$(e2e_exec mail -- sh -c 'cat /etc/mailname 2>/dev/null || echo absent')" \
    "/etc/mailname after the planning error"

  # A well-formed but wrong secret: the server refuses, the module is rolled back.
  _dns_config "$wrong"
  rc=0
  out=$(e2e_exec mail -- firstboot run --profile standard --only dns 2>&1) || rc=$?
  e2e_assert_eq 1 "$rc" "exit status with a wrong key"
  e2e_assert_contains "$out" \
    "update refused by ${E2E_HOST_V4[dns]}: NOTAUTH (TSIG BADSIG) — check dns.publish.tsig_secret_file" \
    "wrong key error"
  e2e_assert_contains "$out" "rolled back" "module rolled back"
  [[ "$out" != *"$wrong"* ]] || e2e_fail "the secret was shown: $out"
  e2e_assert_eq "$mailname" "$(e2e_exec mail -- sh -c 'cat /etc/mailname 2>/dev/null || echo absent')" \
    "/etc/mailname after the rollback"
  e2e_assert_eq "$serial" "$(_dns_serial)" "SOA serial"
  e2e_assert_eq "$before" "$(_dns_rrsets)" "record sets of example.test"

  # Without dns.publish, --diff asks the domain's name server, found through resolv.conf.
  printf 'domain: example.test\nipv4: %s\n' "${E2E_HOST_V4[mail]}" |
    e2e_put mail /etc/firstboot/nopublish.yaml
  out=$(e2e_exec mail -- firstboot records --profile standard --only dns --diff \
    --config /etc/firstboot/nopublish.yaml 2>&1) || e2e_fail "records --diff failed: $out"
  e2e_assert_contains "$out" "compared with ${E2E_HOST_V4[dns]}" "records --diff without a server"
  e2e_assert_contains "$out" "missing    TXT _dmarc.example.test." "records --diff before publication"
}

# 9-mail_config makes the DKIM key once and publishes its record the same way; the
# record is the key's public half as openssl sees it.
scenario_dns_dkim_record_published() {
  _dns_begin
  _dns_config "$(cat "$E2E_STATE/shared/tsig.secret")"
  local out key=/etc/opendkim/keys/example.test/default.private want got sum serial
  out=$(e2e_exec mail -- firstboot run --profile standard --only dns --only mail 2>&1) ||
    e2e_fail "firstboot run failed: $out"
  e2e_assert_eq 600 "$(e2e_exec mail -- stat -c %a "$key")" "mode of the DKIM key"
  e2e_assert_contains "$(e2e_exec mail -- openssl rsa -in "$key" -noout -text 2>/dev/null | head -n 1)" \
    "2048 bit" "DKIM key size"
  want=$(e2e_exec mail -- sh -c "openssl rsa -in $key -pubout -outform DER 2>/dev/null | base64 -w0")
  # kdig prints the 255-byte strings quoted and separated by blanks: join them.
  got=$(e2e_dig mail @"${E2E_HOST_V4[dns]}" default._domainkey.example.test TXT | sed 's/" "//g; s/"//g')
  e2e_assert_eq "v=DKIM1; k=rsa; p=$want" "$got" "published DKIM record"
  out=$(e2e_exec mail -- firstboot validate mail 2>&1) || e2e_fail "validate mail failed: $out"
  e2e_assert_check "$out" PASS dns.records "DNS records at ${E2E_HOST_V4[dns]}" "validate mail"

  # A re-run keeps the key and sends nothing.
  sum=$(e2e_exec mail -- sha256sum "$key")
  serial=$(_dns_serial)
  out=$(e2e_exec mail -- firstboot run --profile standard --only dns --only mail --force 2>&1) ||
    e2e_fail "re-run failed: $out"
  e2e_assert_eq "$sum" "$(e2e_exec mail -- sha256sum "$key")" "DKIM key after a re-run"
  e2e_assert_eq "$serial" "$(_dns_serial)" "SOA serial after the re-run"
}
