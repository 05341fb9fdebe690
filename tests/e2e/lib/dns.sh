# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# Host `dns`: Knot DNS, authoritative for the test zones.
#
#   example.test   our mail domain; DNSSEC-signed by Knot (automatic policy);
#                  accepts RFC 2136 updates signed with the TSIG key
#                  "firstboot" (hmac-sha256), and no other update
#   example.net    the outside world (MX mx.example.net = host world)
#   reverse zones  2.0.192.in-addr.arpa, 100.51.198.in-addr.arpa,
#                  113.0.203.in-addr.arpa and 8.b.d.0.1.0.0.2.ip6.arpa
#                  (2001:db8::/32), with a PTR for every host
#
# Files shared with every host (under /run/e2e inside hosts):
#   tsig.key        hmac-sha256:firstboot:SECRET   (kdig/knsupdate -k)
#   tsig.secret     SECRET alone                   (firstboot's tsig_secret_file)
#   tsig-wrong.key  same key name, another secret  (must be refused)
#   example.test.dnskey  the zone's DNSKEY records (a trust anchor)

E2E_TSIG_NAME=firstboot
E2E_ZONES=(example.test example.net 2.0.192.in-addr.arpa 100.51.198.in-addr.arpa
  113.0.203.in-addr.arpa 8.b.d.0.1.0.0.2.ip6.arpa)

# The reverse (PTR) owner name of an IPv4 or IPv6 address, with a final dot.
e2e_reverse_name() {
  local addr=$1 hex="" out="" g i
  if [[ "$addr" != *:* ]]; then
    local -a o
    IFS=. read -ra o <<<"$addr"
    echo "${o[3]}.${o[2]}.${o[1]}.${o[0]}.in-addr.arpa."
    return
  fi
  # Expand "::" to the missing zero groups, then write 32 nibbles backwards.
  local -a head=() tail=() groups
  if [[ "$addr" == *::* ]]; then
    IFS=: read -ra head <<<"${addr%%::*}"
    IFS=: read -ra tail <<<"${addr#*::}"
  else
    IFS=: read -ra head <<<"$addr"
  fi
  groups=("${head[@]}")
  for ((i = ${#head[@]} + ${#tail[@]}; i < 8; i++)); do groups+=(0); done
  groups+=("${tail[@]}")
  for g in "${groups[@]}"; do hex+=$(printf '%04x' "0x$g"); done
  for ((i = 31; i >= 0; i--)); do out+="${hex:i:1}."; done
  echo "${out}ip6.arpa."
}

# The zone file of zone $1, written to stdout.
e2e_zone_file() {
  local zone=$1 h
  printf '$ORIGIN %s.\n$TTL 300\n' "$zone"
  printf '@ SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300\n'
  printf '@ NS ns1.example.test.\n'
  case "$zone" in
    example.test)
      printf '@ MX 10 mail.example.test.\n'
      # A domain mail only forwards (mail.forward), to world as its internal host.
      printf 'home MX 10 mail.example.test.\n'
      for h in dns acme mail; do
        printf '%s. A %s\n' "${E2E_HOST_FQDN[$h]}" "${E2E_HOST_V4[$h]}"
        printf '%s. AAAA %s\n' "${E2E_HOST_FQDN[$h]}" "${E2E_HOST_V6[$h]}"
      done
      ;;
    example.net)
      printf '@ MX 10 mx.example.net.\n'
      printf '@ TXT "v=spf1 mx -all"\n'
      printf 'mx A %s\nmx AAAA %s\n' "${E2E_HOST_V4[world]}" "${E2E_HOST_V6[world]}"
      ;;
    *.arpa)
      for h in "${E2E_HOSTS[@]}"; do
        local addr name
        for addr in "${E2E_HOST_V4[$h]}" "${E2E_HOST_V6[$h]}"; do
          name=$(e2e_reverse_name "$addr")
          if [[ "$name" == *".$zone." ]]; then
            printf '%s PTR %s.\n' "$name" "${E2E_HOST_FQDN[$h]}"
          fi
        done
      done
      ;;
  esac
}

e2e_knot_conf() {
  local secret=$1 zone
  cat <<EOF
# fb-e2e: Knot on host dns
server:
    rundir: /run/knot
    user: knot:knot
    listen: [ 0.0.0.0@53, ::@53 ]

log:
  - target: /var/log/knot/knot.log
    any: info

database:
    storage: /var/lib/knot

key:
  - id: $E2E_TSIG_NAME
    algorithm: hmac-sha256
    secret: $secret

acl:
  - id: tsig_update
    key: $E2E_TSIG_NAME
    action: update
  - id: refuse_other_updates
    address: [ 0.0.0.0/0, ::/0 ]
    action: update
    deny: on

policy:
  - id: e2e
    algorithm: ecdsap256sha256
    single-type-signing: on

template:
  - id: default
    storage: /var/lib/knot/zones
    file: "%s.zone"

zone:
  - domain: example.test
    acl: [ tsig_update, refuse_other_updates ]
    dnssec-signing: on
    dnssec-policy: e2e
EOF
  for zone in "${E2E_ZONES[@]}"; do
    [[ "$zone" == example.test ]] && continue
    printf '  - domain: %s\n    acl: refuse_other_updates\n' "$zone"
  done
}

# Query the test DNS server from host $1 (kdig, short answers).
e2e_dig() {
  local host=$1
  shift
  e2e_exec "$host" -- kdig +short +time=2 +retry=1 "$@"
}

e2e_dns_up() {
  local shared="$E2E_STATE/shared" secret zone
  secret=$(openssl rand -base64 32)
  printf 'hmac-sha256:%s:%s\n' "$E2E_TSIG_NAME" "$secret" >"$shared/tsig.key"
  printf '%s\n' "$secret" >"$shared/tsig.secret"
  printf 'hmac-sha256:%s:%s\n' "$E2E_TSIG_NAME" "$(openssl rand -base64 32)" >"$shared/tsig-wrong.key"
  chmod 0644 "$shared"/tsig*

  e2e_knot_conf "$secret" | e2e_put dns /etc/knot/knot.conf 0640 root:knot
  for zone in "${E2E_ZONES[@]}"; do
    e2e_zone_file "$zone" | e2e_put dns "/var/lib/knot/zones/$zone.zone" 0644 knot:knot
  done
  e2e_exec dns -- sh -c '
    mkdir -p /run/knot /var/log/knot &&
    chown knot:knot /run/knot /var/log/knot /var/lib/knot /var/lib/knot/zones &&
    knotc -c /etc/knot/knot.conf conf-check >/dev/null &&
    knotd -d -c /etc/knot/knot.conf'

  # Ready when the signed zone is served.
  e2e_retry 30 e2e_knot_signed || e2e_die "knot does not serve a signed example.test"
  e2e_exec dns -- kdig +noall +answer @127.0.0.1 example.test DNSKEY >"$shared/example.test.dnskey"
}

e2e_knot_signed() {
  e2e_exec dns -- kdig +dnssec +noall +answer +time=1 @127.0.0.1 example.test SOA 2>/dev/null |
    grep -q 'RRSIG'
}
