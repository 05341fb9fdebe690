# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# Host `acme`: Pebble, the ACME test CA, at https://acme.example.test:14000/dir
# (management API on :15000), resolving names through host dns.
#
# Pebble's own HTTPS listener uses a certificate for acme.example.test (and
# its addresses) from a CA the harness makes here. Two files are shared with
# every host (under /run/e2e inside hosts):
#   acme-tls-ca.pem   the CA of Pebble's listener: clients talking ACME to
#                     Pebble trust this (curl --cacert, REQUESTS_CA_BUNDLE)
#   pebble-root.pem   Pebble's issuing root (/roots/0): certificates Pebble
#                     issues chain to this; it is new on every Pebble start
#
# Pebble's http-01 challenges go to port 80 of the name being validated and
# tls-alpn-01 to port 443, as with a real CA.

E2E_ACME_DIR_URL=https://acme.example.test:14000/dir

# A CA and a server certificate for Pebble's listener, made with openssl.
e2e_acme_tls_cert() {
  local out=$1
  mkdir -p "$out"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$out/ca.key" -out "$out/ca.pem" -days 30 \
    -subj "/CN=fb-e2e ACME listener CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$out/server.key" -out "$out/server.csr" \
    -subj "/CN=${E2E_HOST_FQDN[acme]}" 2>/dev/null
  openssl x509 -req -in "$out/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -CAcreateserial -out "$out/server.pem" -days 30 \
    -extfile <(printf '%s\n' \
      "subjectAltName=DNS:${E2E_HOST_FQDN[acme]},IP:${E2E_HOST_V4[acme]},IP:${E2E_HOST_V6[acme]}" \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth") 2>/dev/null
}

e2e_acme_up() {
  local shared="$E2E_STATE/shared" certs="$E2E_STATE/acme-certs"
  e2e_acme_tls_cert "$certs"
  cp "$certs/ca.pem" "$shared/acme-tls-ca.pem"

  e2e_put acme /etc/pebble/cert.pem 0644 <"$certs/server.pem"
  e2e_put acme /etc/pebble/key.pem 0600 <"$certs/server.key"
  e2e_put acme /etc/pebble/pebble.json 0644 <<'EOF'
{
  "pebble": {
    "listenAddress": ":14000",
    "managementListenAddress": ":15000",
    "certificate": "/etc/pebble/cert.pem",
    "privateKey": "/etc/pebble/key.pem",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
  # NOSLEEP: validate at once, not after a random pause. NONCEREJECT=0:
  # never reject a good nonce at random. AUTHZREUSE=0: every order is
  # validated for real, never served from an earlier authorization.
  e2e_daemon acme /var/log/pebble.log env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    PEBBLE_AUTHZREUSE=0 pebble -config /etc/pebble/pebble.json \
    -dnsserver "$E2E_DNS_V4:53"

  e2e_retry 30 e2e_exec acme -- curl -fs -o /dev/null --cacert /run/e2e/acme-tls-ca.pem \
    "$E2E_ACME_DIR_URL" || e2e_die "pebble does not answer on $E2E_ACME_DIR_URL"
  e2e_exec acme -- curl -fsS --cacert /run/e2e/acme-tls-ca.pem \
    "https://${E2E_HOST_FQDN[acme]}:15000/roots/0" >"$shared/pebble-root.pem"
  grep -q 'BEGIN CERTIFICATE' "$shared/pebble-root.pem" || e2e_die "pebble served no root at /roots/0"
}
