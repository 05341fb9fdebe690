# shellcheck shell=bash
# 10-monitoring's firewall on a fresh full-mode host (the whole advanced profile) whose
# sshd_config says `Port 2222` and `Port 2223`: from world, 25, 465, 587, 993, 995, 2222
# and 2223 connect; 22 and a port nothing of the mode serves (a listener on 2525) get no
# answer over IPv4 and IPv6, while loopback still reaches 2525; a re-run loads nothing
# again; switched to local mode with monitoring.open_ports [2525], 465, 587, 993, 995 and
# 2223 close and 2525 opens; rolling that run back opens them again,
# rolling back the first run removes the table. Uses 30-dns.sh's save/restore and 72-mail-full.sh's helpers.

_FW_PIDS=/run/e2e-fw-listeners

# EXIT trap: the listeners stopped by their pids, monitoring rolled back, fail2ban
# stopped, no table of ours or fail2ban's left, then as 72-mail-full.sh.
_fw_end() {
  local rc=$?
  e2e_exec mail -- sh -c '
    [ -e "$0" ] && kill $(cat "$0")
    rm -f "$0" /etc/ssh/sshd_config
    [ -e /var/lib/firstboot/state.json ] && firstboot rollback monitoring --force
    fail2ban-client stop || pkill -x fail2ban-server
    for _ in $(seq 50); do pgrep -x fail2ban-server >/dev/null || break; sleep 0.1; done
    nft delete table inet firstboot
    nft delete table inet f2b-table
    rm -f /var/log/auth.log /var/log/fail2ban.log /var/lib/fail2ban/fail2ban.sqlite3
    true
  ' "$_FW_PIDS" >/dev/null 2>&1
  (exit "$rc")
  _mail_full_end
}

# _fw_listen PORT: a TCP listener on PORT in mail (accepts and closes), pid kept.
_fw_listen() {
  e2e_daemon mail "/run/e2e-fw-$1.log" sh -c 'echo $$ >>"$0"; exec perl -MIO::Socket::IP -e '\''
    my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => $ARGV[0], Listen => 5,
      ReuseAddr => 1, V6Only => 0) or die "listen: $!";
    while (my $c = $s->accept) { close $c }'\'' "$1"' "$_FW_PIDS" "$1"
  e2e_retry 10 e2e_exec mail -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" ||
    e2e_fail "the listener on $1 in mail does not start"
}

# _fw_connect FROM ADDRESS PORT: 0 connected, 1 refused, 124 no answer (dropped).
_fw_connect() {
  local rc=0
  e2e_exec "$1" -- timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>/dev/null || rc=$?
  echo "$rc"
}

# _fw_expect WHAT PORT...: each port of mail, from world over IPv4, answers as WHAT
# (open: connects; dropped: no answer at all).
_fw_expect() {
  local what=$1 port want
  shift
  want=$([[ "$what" == open ]] && echo 0 || echo 124)
  for port in "$@"; do
    e2e_assert_eq "$want" "$(_fw_connect world "$_MAIL_FULL_V4" "$port")" \
      "port $port from world ($what: 0 connects, 124 dropped)"
  done
}

# _fw_validate: `firstboot validate monitoring`, firewall.ports must pass.
_fw_validate() {
  local out
  out=$(e2e_exec mail -- firstboot validate monitoring 2>&1) || e2e_fail "validate monitoring: $out"
  e2e_assert_check "$out" PASS firewall.ports "firewall (nftables table inet firstboot)" "validate monitoring"
}

# The table's handle: a new one each time the file is loaded.
_fw_handle() {
  e2e_exec mail -- nft -j list table inet firstboot | jq -r '.nftables[] | select(.table) | .table.handle'
}

scenario_firewall_opens_exactly_the_ports_of_the_mode() {
  local out first handle v6=${E2E_HOST_V6[mail]}
  _dns_begin
  trap _fw_end EXIT
  _mail_full_config
  e2e_exec mail -- sh -c ': >>/var/log/auth.log; : >/var/log/mail.log; : >/var/log/dovecot.log'
  # SSH moved to 2222, and 2223 (sshd itself does not run in test hosts: listeners
  # stand in).
  e2e_exec mail -- sh -c 'printf "Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\nPort 2223\n" >/etc/ssh/sshd_config'
  _fw_listen 2525
  _fw_listen 2222
  _fw_listen 2223
  _fw_expect open 2525
  out=$(e2e_exec mail -- firstboot run --profile advanced 2>&1) ||
    e2e_fail "firstboot run --profile advanced failed: $out"
  e2e_assert_contains "$out" "command nft -f /etc/nftables.d/firstboot.nft" "the run"
  first=$(e2e_exec mail -- sh -c 'ls /var/log/firstboot/backups/*/10-monitoring -d | head -n 1 | cut -d/ -f6')

  _fw_expect open 25 465 587 993 995 2222 2223
  _fw_expect dropped 2525 143 22
  e2e_assert_eq 124 "$(_fw_connect world "$v6" 2525)" "port 2525 from world over IPv6 (dropped)"
  e2e_assert_eq 0 "$(_fw_connect world "$v6" 25)" "port 25 from world over IPv6"
  e2e_assert_eq 0 "$(_fw_connect mail 127.0.0.1 2525)" "port 2525 from mail itself (loopback)"
  e2e_assert_eq 0 "$(_fw_connect mail "$_MAIL_FULL_V4" 2525)" "port 2525 of its own address from mail"
  _fw_validate
  # The next boot: nftables.service is enabled, and what it loads (Debian's
  # /etc/nftables.conf with our include) parses (-c: checked, not loaded).
  out=$(e2e_exec mail -- cat /etc/nftables.conf)
  e2e_assert_contains "$out" 'include "/etc/nftables.d/firstboot.nft"' "/etc/nftables.conf"
  e2e_exec mail -- test -L /etc/systemd/system/sysinit.target.wants/nftables.service ||
    e2e_fail "nftables.service is not enabled"
  out=$(e2e_exec mail -- nft -c -f /etc/nftables.conf 2>&1) || e2e_fail "nft -c -f /etc/nftables.conf: $out"

  # A re-run changes nothing: the table is not loaded again.
  handle=$(_fw_handle)
  out=$(e2e_exec mail -- firstboot run --profile advanced --only monitoring --force 2>&1) ||
    e2e_fail "re-run failed: $out"
  [[ "$out" != *"nft -f"* && "$out" != *"firstboot.nft"* ]] || e2e_fail "the re-run touched the firewall: $out"
  e2e_assert_eq "$handle" "$(_fw_handle)" "the table's handle after a re-run"

  # Local mode: only SSH and 25 stay open (Dovecot and submission still listen), and
  # monitoring.open_ports given replaces sshd's ports: 2525 opens, 2223 closes.
  e2e_exec mail -- sed -i 's/^mail:$/mail:\n  mode: local/' /etc/firstboot/config.yaml
  e2e_exec mail -- sh -c 'printf "monitoring:\n  open_ports: [2525]\n" >>/etc/firstboot/config.yaml'
  out=$(e2e_exec mail -- firstboot run --profile advanced --only monitoring --force 2>&1) ||
    e2e_fail "the run in local mode failed: $out"
  e2e_assert_contains "$out" "command nft -f /etc/nftables.d/firstboot.nft" "the run in local mode"
  e2e_assert_contains "$out" "warning: sshd listens on port 2223 " "the run leaving out sshd's second port"
  _fw_expect open 25 2222 2525
  _fw_expect dropped 465 587 993 995 2223
  _fw_validate

  # Rolling that run back loads the full-mode file again; the first run's rollback
  # deletes the table.
  out=$(e2e_exec mail -- firstboot rollback monitoring --force 2>&1) || e2e_fail "rollback: $out"
  e2e_assert_contains "$out" "nft -f /etc/nftables.d/firstboot.nft again" "the rollback of the local-mode run"
  _fw_expect open 465 993
  out=$(e2e_exec mail -- firstboot rollback monitoring --run "$first" --force 2>&1) ||
    e2e_fail "rollback of run $first: $out"
  ! out=$(e2e_exec mail -- nft list table inet firstboot 2>&1) || e2e_fail "the table is still there: $out"
  _fw_expect open 2525
  out=$(e2e_exec mail -- cat /etc/nftables.conf)
  [[ "$out" != *firstboot* ]] || e2e_fail "/etc/nftables.conf still includes our file: $out"
  ! e2e_exec mail -- test -e /etc/systemd/system/sysinit.target.wants/nftables.service ||
    e2e_fail "nftables.service is still enabled after the rollback"
}
