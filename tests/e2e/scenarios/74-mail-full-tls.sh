# shellcheck shell=bash
# TLS on every port full mode serves, after a full-mode run (72-mail-full.sh's
# _mail_full_up): `firstboot validate`'s tls checks against the real Postfix and Dovecot,
# then broken on purpose (a certificate renewed on disk but not reloaded, TLS 1.0
# enabled in Dovecot); and testssl.sh, a scanner we did not write, on 587, 465, 993, 995.

# _mail_full_tls_validate: `firstboot validate mail --json` on mail, output and status.
_mail_full_tls_validate() {
  e2e_exec mail -- firstboot validate --profile advanced --only mail --json 2>&1
}

# _mail_full_tls_check JSON ID: that check's object in validate's JSON (one field a line).
_mail_full_tls_check() {
  awk -v id="$2" '/^ *\{ *$/ { buf = ""; inb = 1 }
    inb { buf = buf $0 "\n" }
    /^ *\},? *$/ { if (inb && index(buf, "\"id\": \"" id "\"")) printf "%s", buf; inb = 0 }' <<<"$1"
}

# _mail_full_tls_is JSON ID STATUS TEXT...: check ID has STATUS and each TEXT in it.
_mail_full_tls_is() {
  local obj t
  obj=$(_mail_full_tls_check "$1" "$2")
  [[ -n "$obj" ]] || e2e_fail "no check $2 in: $(head -c 600 <<<"$1")"
  e2e_assert_contains "$obj" "\"status\": \"$3\"" "$2"
  for t in "${@:4}"; do
    e2e_assert_contains "$obj" "$t" "$2"
  done
}

_MAIL_FULL_TLS_IDS=(tls.smtp tls.submission tls.submissions tls.imaps tls.pop3s)

# _mail_full_tls_fixed JSON: every tls check passes (self-signed: a warning, not a
# failure), each with its proof.
_mail_full_tls_fixed() {
  local id
  for id in "${_MAIL_FULL_TLS_IDS[@]}"; do
    _mail_full_tls_is "$1" "$id" warn "self-signed" "TLS 1.3 " "TLS 1.0 and 1.1 refused" \
      "aNULL suites refused" "serves /etc/firstboot/ssl/"
  done
}

scenario_mail_full_validate_tls() {
  _mail_full_up
  local out fqdn=${E2E_HOST_FQDN[mail]}
  local cert=/etc/firstboot/ssl/$fqdn.crt key=/etc/firstboot/ssl/$fqdn.key
  out=$(_mail_full_tls_validate) || e2e_fail "validate fails after a full run: $out"
  printf '%s\n' "$out" >"$E2E_STATE/logs/validate-tls-fixed.txt"
  _mail_full_tls_fixed "$out"

  # (a) A renewal on disk (same key, a new certificate) that no daemon reloaded: Postfix's
  # idle smtpd (the one validate just used) and Dovecot still serve the old one.
  e2e_exec mail -- sh -c 'cp -p "$1" /root/e2e-tls-cert.pem &&
    openssl req -new -x509 -key "$2" -subj "/CN=$3" -addext "subjectAltName=DNS:$3" \
      -days 30 -out /root/e2e-tls-new.pem 2>/dev/null && cat /root/e2e-tls-new.pem >"$1"' \
    sh "$cert" "$key" "$fqdn" || e2e_fail "could not make a new certificate"
  if out=$(_mail_full_tls_validate); then e2e_fail "validate passes with a stale certificate: $out"; fi
  printf '%s\n' "$out" >"$E2E_STATE/logs/validate-tls-stale.txt"
  local stale="serves a certificate that is not $cert (same key, another certificate)"
  _mail_full_tls_is "$out" tls.smtp fail "$stale" "postfix reload"
  _mail_full_tls_is "$out" tls.submission fail "$stale" "postfix reload"
  _mail_full_tls_is "$out" tls.imaps fail "$stale" "doveadm reload"
  # The hint's reloads fix it; then the original certificate goes back.
  e2e_exec mail -- sh -c 'postfix reload && doveadm reload' >/dev/null 2>&1
  e2e_retry 10 _mail_full_tls_validate >/dev/null ||
    e2e_fail "validate still fails after the reloads: $(_mail_full_tls_validate)"
  e2e_exec mail -- sh -c 'cat /root/e2e-tls-cert.pem >"$1" && postfix reload && doveadm reload' \
    sh "$cert" >/dev/null 2>&1
  out=$(_mail_full_tls_validate) || e2e_fail "validate fails with the certificate back: $out"
  _mail_full_tls_fixed "$out"

  # (b) TLS 1.0 enabled on 993 in Dovecot (with CBC suites at OpenSSL's security level 0,
  # which TLS 1.0 needs to be offered at all), proved with openssl before validate says so.
  e2e_exec mail -- sh -c 'cp -p /etc/dovecot/dovecot.conf /root/e2e-dovecot.conf &&
    sed -i -e "s/^ssl_min_protocol = .*/ssl_min_protocol = TLSv1/" \
      -e "s/^ssl_cipher_list = .*/ssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:!aNULL:!eNULL:@SECLEVEL=0/" \
      /etc/dovecot/dovecot.conf && doveadm reload' || e2e_fail "could not reconfigure Dovecot"
  e2e_retry 10 _mail_full_tls 993 -tls1 -cipher 'DEFAULT:@SECLEVEL=0' ||
    e2e_fail "openssl s_client -tls1 is not accepted on 993: the scenario would prove nothing"
  if out=$(_mail_full_tls_validate); then e2e_fail "validate passes with TLS 1.0 on 993: $out"; fi
  printf '%s\n' "$out" >"$E2E_STATE/logs/validate-tls-tls10.txt"
  _mail_full_tls_is "$out" tls.imaps fail "TLS 1.0 accepted" "ssl_min_protocol = TLSv1.2"
  _mail_full_tls_is "$out" tls.smtp warn "TLS 1.0 and 1.1 refused"
  e2e_exec mail -- sh -c 'cp -p /root/e2e-dovecot.conf /etc/dovecot/dovecot.conf && doveadm reload &&
    rm -f /root/e2e-dovecot.conf /root/e2e-tls-cert.pem /root/e2e-tls-new.pem'
  out=$(_mail_full_tls_validate) || e2e_fail "validate fails with Dovecot's configuration back: $out"
  _mail_full_tls_fixed "$out"
}

# _mail_full_testssl PORT...: testssl.sh from world against each PORT of mail at once
# (587 with STARTTLS): no HIGH or CRITICAL finding but the self-signed certificate's
# trust and revocation (as on port 25, 70-mail-local.sh); TLS 1.2 offered, TLS 1.0 not.
_mail_full_testssl() {
  local port csv found all
  for port in "$@"; do
    e2e_exec world -- rm -f "/tmp/testssl-mail$port.csv"
  done
  for port in "$@"; do
    local starttls=()
    [[ $port == 587 ]] && starttls=(--starttls smtp)
    e2e_exec world -- testssl --quiet --color 0 --warnings off --ip one --nodns min \
      --openssl-timeout 5 "${starttls[@]}" --csvfile "/tmp/testssl-mail$port.csv" \
      "${E2E_HOST_FQDN[mail]}:$port" >"$E2E_STATE/logs/testssl-mail$port.txt" 2>&1 &
  done
  wait
  for port in "$@"; do
    csv=/tmp/testssl-mail$port.csv
    e2e_exec world -- test -s "$csv" ||
      e2e_fail "testssl on $port wrote no result: $(tail -n 5 "$E2E_STATE/logs/testssl-mail$port.txt")"
    all=$(e2e_exec world -- cat "$csv")
    printf '%s\n' "$all" >"$E2E_STATE/logs/testssl-mail$port.csv"
    found=$(awk -F'","' '($4 == "HIGH" || $4 == "CRITICAL") && $1 !~ /^"cert_(chain_of_trust|revocation)$/' <<<"$all")
    [[ -z "$found" ]] || e2e_fail "testssl on mail:$port finds: $found"
    grep -q "^\"TLS1_2\",\"[^\"]*\",\"$port\",\"[A-Z]*\",\"offered" <<<"$all" ||
      e2e_fail "$port: TLS 1.2 not offered: $(grep '^"TLS1_2"' <<<"$all")"
    grep -q "^\"TLS1\",\"[^\"]*\",\"$port\",\"[A-Z]*\",\"not offered" <<<"$all" ||
      e2e_fail "$port: TLS 1.0 offered: $(grep '^"TLS1"' <<<"$all")"
    grep -q "^\"cipher_order[^\"]*\",\"[^\"]*\",\"$port\",\"OK\"" <<<"$all" ||
      e2e_fail "$port: no server cipher order: $(grep '^"cipher_order' <<<"$all")"
  done
}

scenario_mail_full_testssl_submission() {
  _mail_full_up
  _mail_full_testssl 587 465
}

scenario_mail_full_testssl_imaps_pop3s() {
  _mail_full_up
  _mail_full_testssl 993 995
}
