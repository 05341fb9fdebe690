# shellcheck shell=bash
# `firstboot validate` on a full-mode host (72-mail-full.sh's setup): every check passes
# against the real services, then each breakage is reported as a failure of the right
# check: Postfix made an open relay (mynetworks widened, reload) and Dovecot stopped.

# _validate_mail: `firstboot validate --json mail` on mail; sets out (the JSON) and rc.
_validate_mail() {
  rc=0
  out=$(e2e_exec mail -- firstboot validate --json mail 2>/dev/null) || rc=$?
}

# _check ID: "STATUS detail" of check ID in the last _validate_mail.
_check() {
  jq -r --arg id "$1" '.modules[].checks[] | select(.id == $id) | "\(.status) \(.detail)"' <<<"$out"
}

# _assert_check ID STATUS [TEXT] WHAT: check ID has STATUS (and its detail TEXT).
_assert_check() {
  local got
  got=$(_check "$1")
  [[ "$got" == "$2 "* ]] || e2e_fail "$4: $1 is \"$got\", expected $2"
  [[ -z "$3" || "$got" == *"$3"* ]] || e2e_fail "$4: $1 is \"$got\", expected to contain \"$3\""
}

scenario_mail_full_validate_reports_breakage() {
  _mail_full_up >/dev/null
  local out rc id
  _validate_mail
  ((rc == 0)) || e2e_fail "validate after a full-mode run exited $rc: $(jq -c '[.modules[].checks[] | select(.status == "fail") | [.id, .detail]]' <<<"$out")"
  for id in smtp.banner smtp.auth_before_tls smtp.submission_auth_before_tls smtp.open_relay \
    mail.queue dovecot.running; do
    _assert_check "$id" pass "" "validate after a full-mode run"
  done
  _assert_check smtp.open_relay pass "5 recipient(s) refused with 5xx" "validate after a full-mode run"
  _assert_check smtp.banner pass "220 mail.example.test" "validate after a full-mode run"

  # An open relay: mynetworks widened to the whole internet, Postfix reloaded.
  e2e_exec mail -- sh -c 'postconf -e "mynetworks = 0.0.0.0/0 [::]/0" && postfix reload' >/dev/null 2>&1 ||
    e2e_fail "cannot widen mynetworks on mail"
  _validate_mail
  ((rc == 1)) || e2e_fail "validate with an open relay exited $rc"
  _assert_check smtp.open_relay fail "open relay: accepted foreign domain" "validate with an open relay"
  # The probe sent nothing: no message for the foreign domain in the queue.
  e2e_exec mail -- sh -c 'postqueue -p | grep -q firstboot-relay-probe' &&
    e2e_fail "the relay probe left a message in mail's queue"
  e2e_exec mail -- sh -c 'postconf -e "mynetworks = 127.0.0.0/8 [::1]/128" && postfix reload' >/dev/null 2>&1

  # Dovecot stopped.
  e2e_exec mail -- sh -c 'service dovecot stop || pkill -x dovecot' >/dev/null 2>&1
  _validate_mail
  ((rc == 1)) || e2e_fail "validate with Dovecot stopped exited $rc"
  _assert_check dovecot.running fail "" "validate with Dovecot stopped"
  _assert_check smtp.open_relay pass "" "validate after mynetworks was put back"
  e2e_exec mail -- service dovecot start >/dev/null 2>&1
  true
}

# preflight on mail: outbound port 25 to world's MX works; with an nft rule inside
# mail's namespace dropping it (as a provider's filter would: not mail's own traffic), preflight warns and says what to ask the provider for,
# and `run` shows the same warning without stopping.
scenario_preflight_outbound_25_dropped() {
  _engine_begin
  local out rc=0
  # shellcheck disable=SC2317 # the EXIT trap
  _preflight_end() {
    local rc=$?
    set +e # errexit in a trap would stop it at (exit "$rc") before the rest of the cleanup
    e2e_exec mail -- nft delete table inet fb_e2e_preflight >/dev/null 2>&1
    (exit "$rc")
    _engine_end
  }
  trap _preflight_end EXIT
  out=$(e2e_exec mail -- firstboot preflight --profile standard --probe-target example.net 2>&1) || rc=$?
  [[ "$out" =~ PASS\ +preflight\.outbound_25\ +outbound\ port\ 25:\ example\.net\ \( ]] ||
    e2e_fail "preflight with port 25 open: $out"
  e2e_exec mail -- nft -f - <<'NFT' || e2e_fail "cannot add the nft rule in mail"
table inet fb_e2e_preflight {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "lo" accept
    tcp dport 25 drop
  }
}
NFT
  rc=0
  out=$(e2e_exec mail -- firstboot preflight --profile standard --probe-target example.net 2>&1) || rc=$?
  ((rc == 1)) || e2e_fail "preflight with port 25 dropped exited $rc: $out"
  [[ "$out" =~ WARN\ +preflight\.outbound_25\ +outbound\ port\ 25: ]] ||
    e2e_fail "preflight with port 25 dropped: $out"
  e2e_assert_contains "$out" "ask your provider to open outbound port 25" "preflight with port 25 dropped"
  # The same as a warning at the start of run, which goes on (smtp_probe in the config).
  e2e_mail_config "smtp_probe: example.net" "mail:" "  maillog_file: /var/log/mail.log"
  _engine_fb firstboot run --profile standard --only mail
  ((rc == 0)) || e2e_fail "run with port 25 dropped exited $rc: $(tail -n 5 <<<"$out" | paste -sd ' ')"
  e2e_assert_contains "$out" "preflight WARN preflight.outbound_25 outbound port 25: " "run with port 25 dropped"
}
