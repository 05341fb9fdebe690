# shellcheck shell=bash
# Self-tests of the stage: the hosts, DNS, ACME CA and remote MTA that later
# scenarios rely on really work, and really are isolated from the machine.

# Every host has its own name and its own /etc, /var, /usr, /root, /home and
# /tmp: what one host writes is seen neither by the machine nor by another
# host. The router has no route off the stage.
scenario_hosts_isolated() {
  local h token dir id ids
  ids=" $(cat /etc/machine-id 2>/dev/null || true) "
  token="fb-e2e-probe-$RANDOM$RANDOM"
  for h in "${E2E_HOSTS[@]}"; do
    e2e_assert_eq "${E2E_HOST_FQDN[$h]}" "$(e2e_exec "$h" -- hostname)" "hostname of $h"
    e2e_assert_eq "${E2E_HOST_FQDN[$h]}" "$(e2e_exec "$h" -- cat /etc/hostname)" "/etc/hostname of $h"
    id=$(e2e_exec "$h" -- cat /etc/machine-id)
    [[ "$id" =~ ^[0-9a-f]{32}$ && "$ids" != *" $id "* ]] || e2e_fail "machine-id of $h is not its own: $id"
    ids+="$id "
  done
  for dir in /etc /var/lib /usr/local /root /home /tmp /opt /srv /dev/shm; do
    e2e_exec mail -- sh -c "echo $token >$dir/$token"
    e2e_assert_eq "$token" "$(e2e_exec mail -- cat "$dir/$token")" "probe file in $dir on mail"
    [[ ! -e "$dir/$token" ]] || e2e_fail "$dir/$token written on mail appeared on the machine"
    if e2e_exec world -- test -e "$dir/$token"; then
      e2e_fail "$dir/$token written on mail appeared on world"
    fi
  done

  # The rest of the machine is read-only from inside: / itself, the repo.
  for dir in / "$E2E_REPO" /run/e2e /run/e2e/repo; do
    if e2e_exec mail -- touch "$dir/$token" 2>/dev/null; then
      rm -f "${dir%/}/$token"
      e2e_fail "$dir is writable from inside a host"
    fi
  done

  local rt routes
  rt=$(e2e_ns rt)
  routes=$(ip -n "$rt" route; ip -n "$rt" -6 route)
  if grep -q '^default' <<<"$routes"; then
    e2e_fail "the router has a default route: $routes"
  fi
  for h in "${E2E_HOSTS[@]}"; do
    e2e_assert_contains "$(e2e_exec "$h" -- ip route)" "default via ${E2E_SEG_V4[${E2E_HOST_SEGMENT[$h]}]%/*}" \
      "IPv4 default route of $h"
  done
}

# Every host resolves every test name (A, AAAA, MX, PTR) through host dns,
# the server its /etc/resolv.conf names, both with kdig and with the C
# library (getent), which is what Postfix and curl use.
scenario_dns_resolves_test_names() {
  local h n addr queries="" expected="" got
  for h in "${E2E_HOSTS[@]}"; do
    n=${E2E_HOST_FQDN[$h]}
    queries+="$n A"$'\n'"$n AAAA"$'\n'
    expected+="$n A ${E2E_HOST_V4[$h]}"$'\n'"$n AAAA ${E2E_HOST_V6[$h]}"$'\n'
    for addr in "${E2E_HOST_V4[$h]}" "${E2E_HOST_V6[$h]}"; do
      queries+="$(e2e_reverse_name "$addr") PTR"$'\n'
      expected+="$(e2e_reverse_name "$addr") PTR $n."$'\n'
    done
  done
  queries+="example.test MX"$'\n'"example.net MX"$'\n'
  expected+="example.test MX 10 mail.example.test."$'\n'"example.net MX 10 mx.example.net."$'\n'

  for h in "${E2E_HOSTS[@]}"; do
    e2e_assert_eq "nameserver $E2E_DNS_V4" \
      "$(e2e_exec "$h" -- grep -m1 '^nameserver' /etc/resolv.conf)" "first nameserver of $h"
    # kdig without @server asks the servers of /etc/resolv.conf.
    got=$(e2e_exec "$h" -- bash -c '
      while read -r name type; do
        printf "%s %s %s\n" "$name" "$type" "$(kdig +short +time=2 "$name" "$type" | paste -sd " ")"
      done' <<<"${queries%$'\n'}")
    if [[ "$got" != "${expected%$'\n'}" ]]; then
      e2e_fail "wrong DNS answers on $h: $(diff <(echo "${expected%$'\n'}") <(echo "$got") | grep '^[<>]' | head -n 4 | paste -sd ' ')"
    fi
    for n in "${E2E_HOST_FQDN[@]}"; do
      got=$(e2e_exec "$h" -- getent ahostsv4 "$n" | awk 'NR == 1 {print $1}')
      local want=""
      for addr in "${!E2E_HOST_FQDN[@]}"; do
        [[ "${E2E_HOST_FQDN[$addr]}" == "$n" ]] && want=${E2E_HOST_V4[$addr]}
      done
      e2e_assert_eq "$want" "$got" "getent ahostsv4 $n on $h"
    done
  done
}

# example.test is DNSSEC-signed, and its signatures validate (delv, with the
# exported DNSKEY as trust anchor) from host mail.
scenario_dns_dnssec_signed() {
  local out anchor
  out=$(e2e_exec mail -- kdig +dnssec +noall +answer example.test SOA)
  e2e_assert_contains "$out" "RRSIG" "RRSIG of the example.test SOA"
  grep -q 'DNSKEY.*257 3 13 ' "$E2E_STATE/shared/example.test.dnskey" ||
    e2e_fail "no ECDSA P-256 KSK/CSK in the exported example.test.dnskey"
  anchor=$(awk '$4 == "DNSKEY" && $5 == 257 {
      printf "trust-anchors { \"%s\" static-key %s %s %s \"%s\"; };\n", $1, $5, $6, $7, $8 }' \
    "$E2E_STATE/shared/example.test.dnskey")
  out=$(e2e_exec mail -- bash -c 'cat >/tmp/anchor.conf && delv -a /tmp/anchor.conf +root=example.test mail.example.test A' <<<"$anchor" 2>&1)
  e2e_assert_contains "$out" "; fully validated" "delv mail.example.test A"
  e2e_assert_contains "$out" "${E2E_HOST_V4[mail]}" "delv mail.example.test A"
}

# A TSIG-signed RFC 2136 update from mail is accepted and seen by every host;
# one signed with a wrong secret, and an unsigned one, are refused and change
# nothing.
scenario_dns_tsig_update() {
  local token name out rc h
  token="fb$RANDOM$RANDOM"
  name="$token.example.test."
  nsupdate_from_mail() { # KEYFILE (empty: unsigned) RR
    local key=()
    [[ -n "$1" ]] && key=(-k "$1")
    printf 'server %s\nzone example.test.\nupdate %s\nsend\n' "$E2E_DNS_V4" "$2" |
      e2e_exec mail -- knsupdate -t 5 "${key[@]}" 2>&1
  }

  rc=0
  out=$(nsupdate_from_mail /run/e2e/tsig-wrong.key "add $name 300 TXT \"wrong-$token\"") || rc=$?
  ((rc != 0)) || e2e_fail "update signed with a wrong secret was accepted: $out"
  e2e_assert_contains "$out" "BADSIG" "answer to an update signed with a wrong secret"
  rc=0
  out=$(nsupdate_from_mail "" "add $name 300 TXT \"unsigned-$token\"") || rc=$?
  ((rc != 0)) || e2e_fail "unsigned update was accepted: $out"
  e2e_assert_contains "$out" "NOTAUTH" "answer to an unsigned update"
  e2e_assert_eq "" "$(e2e_dig mail "$name" TXT)" "TXT $name after refused updates"

  out=$(nsupdate_from_mail /run/e2e/tsig.key "add $name 300 TXT \"signed-$token\"") ||
    e2e_fail "signed update refused: $out"
  for h in "${E2E_HOSTS[@]}"; do
    e2e_assert_eq "\"signed-$token\"" "$(e2e_dig "$h" "$name" TXT)" "TXT $name seen from $h"
  done
  e2e_assert_contains "$(e2e_exec mail -- kdig +dnssec +noall +answer "$name" TXT)" "RRSIG" \
    "signature of the updated record"

  # Leave the zone as it was for later scenarios.
  out=$(nsupdate_from_mail /run/e2e/tsig.key "delete $name TXT") ||
    e2e_fail "signed delete refused: $out"
  e2e_assert_eq "" "$(e2e_dig mail "$name" TXT)" "TXT $name after delete"
}

# swaks on mail hands a message to world's Postfix (the MX of example.net),
# over IPv4 and over IPv6, and world delivers both to bob's Maildir. World's
# Postfix names the client mail.example.test both times: the PTR of each of
# mail's addresses resolves back to it (forward-confirmed reverse DNS).
scenario_smtp_mail_to_world() {
  local family token out file log
  for family in 4 6; do
    token="fb-e2e-ipv$family-$RANDOM$RANDOM"
    out=$(e2e_exec mail -- swaks "-$family" --server mx.example.net --helo mail.example.test \
      --from "probe@example.test" --to "bob@example.net" \
      --header "Subject: e2e $token" --body "token $token" 2>&1) ||
      e2e_fail "swaks -$family failed: $(tail -n 3 <<<"$out" | paste -sd ' ')"
    e2e_assert_contains "$out" "250 2.0.0 Ok: queued" "swaks -$family dialogue"

    # shellcheck disable=SC2317 # called through e2e_retry
    file_with_token() {
      e2e_exec world -- sh -c 'grep -l -- "$1" /home/bob/Maildir/new/* 2>/dev/null' sh "$token"
    }
    file=$(e2e_retry 20 file_with_token) ||
      e2e_fail "no message with $token in world:/home/bob/Maildir/new"
    e2e_assert_contains "$(e2e_exec world -- cat "$file")" "Subject: e2e $token" "delivered message"
  done
  log=$(e2e_exec world -- cat /var/log/mail.log)
  e2e_assert_contains "$log" "connect from mail.example.test[${E2E_HOST_V4[mail]}]" "world's mail.log"
  e2e_assert_contains "$log" "connect from mail.example.test[${E2E_HOST_V6[mail]}]" "world's mail.log"
  e2e_assert_contains "$log" "status=sent (delivered to maildir)" "world's mail.log"
}

# Pebble's ACME directory answers over HTTPS from mail, verified against the
# exported listener CA (and not verifiable without it); its issuing root is
# exported and is the one Pebble serves now.
scenario_acme_directory_https() {
  local out
  out=$(e2e_exec mail -- curl -fsS --cacert /run/e2e/acme-tls-ca.pem "$E2E_ACME_DIR_URL" 2>&1) ||
    e2e_fail "curl $E2E_ACME_DIR_URL: $out"
  e2e_assert_contains "$out" '"newAccount"' "ACME directory"
  e2e_assert_contains "$out" '"newOrder"' "ACME directory"
  if e2e_exec mail -- curl -fsS -o /dev/null "$E2E_ACME_DIR_URL" 2>/dev/null; then
    e2e_fail "Pebble's certificate verified without the test CA"
  fi
  out=$(e2e_exec mail -- openssl x509 -in /run/e2e/pebble-root.pem -noout -subject) ||
    e2e_fail "exported pebble-root.pem is not a certificate"
  e2e_assert_contains "$out" "Pebble Root CA" "subject of pebble-root.pem"
  out=$(e2e_exec mail -- curl -fsS --cacert /run/e2e/acme-tls-ca.pem \
    "https://${E2E_HOST_FQDN[acme]}:15000/roots/0")
  e2e_assert_eq "$(cat "$E2E_STATE/shared/pebble-root.pem")" "$out" "served root vs exported root"
}

# world is also a smarthost: from mail, the test account authenticates over
# TLS on 587 (STARTTLS) and 465 (implicit TLS) and relays a message (to
# bob@example.net, delivered by world itself; world relays to any domain for
# the authenticated). Without AUTH, relaying is refused on both ports, AUTH is
# not offered before TLS on 587, a wrong password is refused, and port 25
# offers no AUTH at all.
scenario_smtp_smarthost_requires_auth() {
  local pass token out file port tls
  pass=$(cat "$E2E_STATE/shared/relay.secret")
  for port in 587 465; do
    tls=--tls
    [[ "$port" == 465 ]] && tls=--tls-on-connect
    token="fb-e2e-smarthost-$port-$RANDOM$RANDOM"
    out=$(e2e_exec mail -- swaks --server mx.example.net --port "$port" "$tls" \
      --auth PLAIN --auth-user "$E2E_RELAY_USER" --auth-password "$pass" \
      --from "probe@example.test" --to "bob@example.net" \
      --header "Subject: e2e $token" --body "token $token" 2>&1) ||
      e2e_fail "swaks with AUTH on $port failed: $(tail -n 3 <<<"$out" | paste -sd ' ')"
    e2e_assert_contains "$out" "235 2.7.0 Authentication successful" "AUTH on $port"
    # shellcheck disable=SC2317 # called through e2e_retry
    file_with_token() {
      e2e_exec world -- sh -c 'grep -l -- "$1" /home/bob/Maildir/new/* 2>/dev/null' sh "$token"
    }
    file=$(e2e_retry 20 file_with_token) ||
      e2e_fail "no message with $token in world:/home/bob/Maildir/new"

    out=$(e2e_exec mail -- swaks --server mx.example.net --port "$port" "$tls" \
      --from "probe@example.test" --to "someone@example.org" 2>&1) &&
      e2e_fail "relaying without AUTH on $port was accepted: $(tail -n 3 <<<"$out" | paste -sd ' ')"
    e2e_assert_contains "$out" "554 5.7.1" "relay without AUTH on $port"

    out=$(e2e_exec mail -- swaks --server mx.example.net --port "$port" "$tls" \
      --auth PLAIN --auth-user "$E2E_RELAY_USER" --auth-password "wrong-$pass" \
      --from "probe@example.test" --to "bob@example.net" 2>&1) &&
      e2e_fail "a wrong password was accepted on $port"
    e2e_assert_contains "$out" "535 5.7.8" "wrong password on $port"
  done
  out=$(e2e_exec mail -- swaks --server mx.example.net --port 587 --quit-after EHLO 2>&1) || true
  [[ "$out" != *"250-AUTH"* && "$out" != *"250 AUTH"* ]] || e2e_fail "587 offers AUTH before STARTTLS: $out"
  out=$(e2e_exec mail -- swaks --server mx.example.net --port 25 --tls --quit-after EHLO 2>&1) || true
  e2e_assert_contains "$out" "250 " "EHLO on 25"
  [[ "$out" != *"AUTH"* ]] || e2e_fail "port 25 offers AUTH: $out"
}
