# shellcheck shell=bash
# firstboot validate's mail DNS checks against the test DNS after a full-mode run (the
# advanced profile, published): MX, A/AAAA, forward-confirmed PTR and HELO, SPF
# (evaluated by mail-auth), DMARC, DNSSEC (example.test is signed), DANE and DKIM
# pass; then each is broken on purpose in the zone and reported as FAIL under its id:
# the DKIM record replaced by another key, SPF without the host's address (and SPF
# listing it through exists: with %{i}, then not, then with %{p}, beside pyspf's
# verdict), the PTR of
# mail's address pointing elsewhere (set in Knot with knotc, put back by the trap).
# mail.loopback (a probe held once signed, judged by mail-auth) passes, then fails
# with the other DKIM key, leaving no queue entry. dns.dane is
# compared with the certificate served on 25: a new key pair on disk not loaded by
# Postfix warns, loaded it fails.
# Uses 72-mail-full.sh's setup and 30-dns.sh's save/restore.

_VDNS_REV4=10.2.0.192.in-addr.arpa.
_VDNS_ZONE4=2.0.192.in-addr.arpa

# _vdns_ptr NAME: the PTR of mail's IPv4 address set to NAME in Knot.
_vdns_ptr() {
  e2e_exec dns -- sh -c '
    set -e
    knotc zone-begin "$1" >/dev/null
    knotc zone-unset "$1" "$2" PTR >/dev/null
    knotc zone-set "$1" "$2" 300 PTR "$3" >/dev/null
    knotc zone-commit "$1" >/dev/null
  ' sh "$_VDNS_ZONE4" "$_VDNS_REV4" "$1"
}

# _vdns_dane_back: the key pair the DANE step saved put back, Postfix reloaded.
_vdns_dane_back() {
  local fqdn=${E2E_HOST_FQDN[mail]}
  e2e_exec mail -- sh -c '[ -e /root/e2e-dane.crt ] || exit 0
    cat /root/e2e-dane.key >"$2" && cat /root/e2e-dane.crt >"$1" &&
    rm -f /root/e2e-dane.crt /root/e2e-dane.key /root/e2e-dane-new.crt /root/e2e-dane-new.key &&
    postfix reload >/dev/null 2>&1' sh "/etc/firstboot/ssl/$fqdn.crt" "/etc/firstboot/ssl/$fqdn.key"
}

_vdns_end() {
  local rc=$?
  set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
  _vdns_ptr mail.example.test. || echo "warning: could not restore the PTR of mail" >&2
  _vdns_dane_back || echo "warning: could not put mail's key pair back" >&2
  (exit "$rc")
  _mail_full_end
}

# _vdns_validate: firstboot validate 9-mail_config on mail; sets out and rc.
_vdns_validate() {
  rc=0
  out=$(e2e_exec mail -- firstboot validate 9-mail_config 2>&1) || rc=$?
}

# _vdns_json ID: "status detail" of check ID in validate --json.
_vdns_json() {
  e2e_check_json 9-mail_config "$1"
}

# _vdns_pyspf: pyspf's result on world for mail from postmaster@example.test sent by
# mail's IPv4 address with HELO mail.example.test.
_vdns_pyspf() {
  e2e_exec world -- /usr/bin/python3 -c 'import sys, spf; print(spf.check2(i=sys.argv[1], s="postmaster@example.test", h="mail.example.test")[0])' \
    "${E2E_HOST_V4[mail]}" 2>&1
}

# _vdns_exists TERM NAME: the domain's SPF made `ip6:<mail's> exists:TERM -all` and NAME
# given an A record; validate's dns.spf passes, and so does pyspf. Sets out and rc.
_vdns_exists() {
  printf 'server %s\nzone example.test.\nupdate delete example.test. TXT\nupdate add example.test. 300 TXT "v=spf1 ip6:%s exists:%s -all"\nupdate add %s. 300 A 127.0.0.2\nsend\n' \
    "${E2E_HOST_V4[dns]}" "${E2E_HOST_V6[mail]}" "$1" "$2" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key ||
    e2e_fail "could not publish SPF with exists:$1"
  _vdns_validate
  e2e_assert_check "$out" PASS dns.spf "" "validate with the host listed through exists:$1"
  e2e_assert_eq pass "$(_vdns_pyspf)" "pyspf with the host listed through exists:$1"
}

scenario_validate_dns_checks_pass_then_fail_by_id() {
  _mail_full_up >/dev/null
  trap _vdns_end EXIT
  local out rc id key chunks
  _vdns_validate
  for id in dns.mx dns.address dns.ptr dns.helo dns.spf dns.dmarc dns.dnssec dns.dane dns.dkim; do
    e2e_assert_check "$out" PASS "$id" "" "validate after a full-mode run"
  done
  e2e_assert_check "$out" SKIP dns.mta_sts "" "validate (MTA-STS not configured)"
  ((rc == 0)) || e2e_fail "validate exited $rc after a full-mode run: $out"
  # The loopback probe, held once signed and judged as a receiver would: all pass, and
  # no queue entry is left.
  e2e_assert_loopback pass "dkim=pass spf=pass dmarc=pass" "after a full-mode run"

  # The DKIM record replaced by another key (split into strings of 200 for knsupdate).
  key=$(e2e_exec mail -- sh -c 'openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -outform DER 2>/dev/null | base64 -w0')
  chunks=$(printf 'v=DKIM1; k=rsa; p=%s' "$key" | fold -w 200 | sed 's/.*/"&"/' | paste -sd ' ')
  printf 'server %s\nzone example.test.\nupdate delete default._domainkey.example.test. TXT\nupdate add default._domainkey.example.test. 300 TXT %s\nsend\n' \
    "${E2E_HOST_V4[dns]}" "$chunks" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key ||
    e2e_fail "could not replace the DKIM record"
  _vdns_validate
  ((rc == 1)) || e2e_fail "validate exited $rc with another DKIM key: $out"
  e2e_assert_check "$out" FAIL dns.dkim "" "validate with another DKIM key"
  e2e_assert_loopback fail "dkim=fail spf=pass dmarc=pass" "with another DKIM key"

  # SPF without the host's address.
  printf 'server %s\nzone example.test.\nupdate delete example.test. TXT\nupdate add example.test. 300 TXT "v=spf1 ip4:192.0.2.99 -all"\nsend\n' \
    "${E2E_HOST_V4[dns]}" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key ||
    e2e_fail "could not replace the SPF record"
  _vdns_validate
  e2e_assert_check "$out" FAIL dns.spf "" "validate with SPF without the host's address"

  # exists: with a macro, evaluated for each address: mail's IPv4 address listed under
  # _spf passes, and pyspf on world says pass too; the listing removed fails, as pyspf
  # says. (IPv6 goes through ip6:, so only the exists: term decides for IPv4.)
  local v4=${E2E_HOST_V4[mail]}
  _vdns_exists '%{i}._spf.example.test' "$v4._spf.example.test"
  printf 'server %s\nzone example.test.\nupdate delete %s._spf.example.test. A\nsend\n' \
    "${E2E_HOST_V4[dns]}" "$v4" | e2e_exec mail -- knsupdate -k /run/e2e/tsig.key ||
    e2e_fail "could not remove the exists: listing"
  _vdns_validate
  e2e_assert_check "$out" FAIL dns.spf "" "validate with the exists: listing removed"
  e2e_assert_contains "$(_vdns_json dns.spf)" "fail for $v4" "dns.spf's detail with the exists: listing removed"
  e2e_assert_eq fail "$(_vdns_pyspf)" "pyspf with the exists: listing removed"
  # %{p}, the PTR name that points back (mail.example.test): listed, both pass.
  _vdns_exists '%{p}._p.example.test' mail.example.test._p.example.test

  # The PTR of mail's address pointing elsewhere.
  _vdns_ptr vm-1.provider.example.net. || e2e_fail "could not change the PTR in Knot"
  _vdns_validate
  e2e_assert_check "$out" FAIL dns.ptr "" "validate with the PTR pointing elsewhere"
  e2e_assert_check "$out" FAIL dns.helo "" "validate with the PTR pointing elsewhere"

  # DANE against the certificate Postfix serves: a new key pair on disk that Postfix has
  # not loaded warns (its idle smtpd still serves the old one: the next reload breaks
  # DANE); reloaded, the TLSA matches nothing served and fails; the old pair goes back.
  local fqdn=${E2E_HOST_FQDN[mail]}
  local cert=/etc/firstboot/ssl/$fqdn.crt key=/etc/firstboot/ssl/$fqdn.key
  e2e_exec mail -- sh -c 'cp -p "$1" /root/e2e-dane.crt && cp -p "$2" /root/e2e-dane.key &&
    openssl req -new -x509 -newkey rsa:2048 -nodes -keyout /root/e2e-dane-new.key \
      -subj "/CN=$3" -addext "subjectAltName=DNS:$3" -days 30 -out /root/e2e-dane-new.crt 2>/dev/null &&
    cat /root/e2e-dane-new.key >"$2" && cat /root/e2e-dane-new.crt >"$1"' sh "$cert" "$key" "$fqdn" ||
    e2e_fail "could not make a new key pair"
  out=$(_vdns_json dns.dane)
  [[ "$out" == "warn "*"the next reload breaks DANE"* ]] ||
    e2e_fail "dns.dane with a new key on disk, Postfix not reloaded: $out"
  e2e_exec mail -- postfix reload >/dev/null 2>&1
  out=$(_vdns_json dns.dane)
  [[ "$out" == "fail none of 1 matches the certificate served at 192.0.2.10:25 nor $cert"* ]] ||
    e2e_fail "dns.dane with a new key served: $out"
  _vdns_dane_back || e2e_fail "could not put the key pair back"
}
