# shellcheck shell=bash
# The measurements of bench/mail.sh, on the e2e stage (its libraries and the mail
# scenarios' setup and cleanup functions are sourced first). Each function prints
# result lines: `NAME N P50 P95 MEAN MAX` (milliseconds). Sourced, never run.

# Ports of the bench's own smtpd services on mail's loopback (master.cf, removed after):
# 2525 no milters and no policy agent, 2526 OpenDKIM alone, 2527 none; 2526 and 2527 hold
# what they take (no delivery), for smtp-source.
_BENCH_MASTER='# fb-bench begin
127.0.0.1:2525 inet n - y - - smtpd
  -o syslog_name=postfix/bench-plain
  -o smtpd_milters=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
127.0.0.1:2526 inet n - y - - smtpd
  -o syslog_name=postfix/bench-dkim
  -o smtpd_milters=unix:opendkim/opendkim.sock
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_sender_restrictions=check_sender_access,static:HOLD
127.0.0.1:2527 inet n - y - - smtpd
  -o syslog_name=postfix/bench-none
  -o smtpd_milters=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_sender_restrictions=check_sender_access,static:HOLD
# fb-bench end'

# _bench_ms CMD...: run CMD, print its wall time in milliseconds (fails if CMD fails).
_bench_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || return 1
  t1=$(date +%s%N)
  echo "scale=1; ($t1 - $t0) / 1000000" | bc
}

# _bench_config MODE: mail's config for MODE, as the e2e scenarios write it.
_bench_config() {
  local secret
  secret=$(cat "$E2E_STATE/shared/tsig.secret")
  case "$1" in
    relay)
      # The smarthost in SPF, as a real relay host needs (dns.spf checks it).
      _dns_config "$secret" "  spf_extra: [\"a:mx.example.net\"]" \
        "mail:" "  maillog_file: /var/log/mail.log" "  mode: relay" \
        "  relay: {host: mx.example.net, port: 587, username: $E2E_RELAY_USER, password_file: $_RELAY_PASSWORD_FILE}"
      e2e_put mail "$_RELAY_PASSWORD_FILE" 0600 <"$E2E_STATE/shared/relay.secret"
      ;;
    local)
      _dns_config "$secret" "mail:" "  maillog_file: /var/log/mail.log" "  mailbox: maildir"
      ;;
    full)
      _dns_config "$secret" "mail:" "  maillog_file: /var/log/mail.log" "  mode: full" \
        "  users:" "    - {name: alice, password_hash: \"{SHA512-CRYPT}$(openssl passwd -6 bench-pass)\"}"
      ;;
  esac
}

# EXIT trap of a subshell: Dovecot and the milters stopped, carol gone, mail and the
# zone as 30-dns.sh puts them back.
_bench_end() {
  local rc=$?
  e2e_exec mail -- sh -c 'service dovecot stop || pkill -x dovecot; rm -rf /var/vmail' >/dev/null 2>&1
  (exit "$rc")
  _mail_local_end
}

# bench_mode_run MODE: a fresh mail host, `firstboot run --profile standard` timed, then
# the no-op re-run (--force) timed.
bench_mode_run() {
  local mode=$1 ms
  _dns_begin
  trap _bench_end EXIT
  _bench_config "$mode"
  ms=$(_bench_ms e2e_exec mail -- firstboot run --profile standard) ||
    e2e_die "firstboot run ($mode) failed: $(e2e_exec mail -- tail -n 5 /var/log/firstboot/firstboot.log)"
  echo "run_$mode 1 $ms $ms $ms $ms"
  ms=$(_bench_ms e2e_exec mail -- firstboot run --profile standard --force) ||
    e2e_die "firstboot run --force ($mode) failed"
  echo "noop_$mode 1 $ms $ms $ms $ms"
}

# _bench_source PORT: smtp-source sends $source_n messages (one session, one after the
# other on it) into PORT, which holds them; prints the wall time in ms. Checks every
# message is held and whether the first carries a DKIM signature (prints yes/no too).
_bench_source() {
  e2e_exec mail -- bash -c '
    set -e
    n=$1 port=$2
    postsuper -d ALL hold >/dev/null 2>&1 || true
    t0=$(date +%s%N)
    smtp-source -s 1 -d -m "$n" -F /tmp/bench-msg.eml -f admin@example.test \
      -t carol@example.test "127.0.0.1:$port"
    t1=$(date +%s%N)
    held=$(postqueue -j | grep -c "\"queue_name\": \"hold\"" || true)
    [ "$held" = "$n" ] || { echo "port $port: $held of $n messages held" >&2; exit 1; }
    id=$(postqueue -j | sed -n "s/.*\"queue_id\": \"\([0-9A-Za-z]*\)\".*/\1/p" | head -n 1)
    signed=no
    postcat -hq "$id" | grep -q "^DKIM-Signature:" && signed=yes
    postsuper -d ALL hold >/dev/null 2>&1
    echo "$(( (t1 - t0) / 1000 )) $signed"
  ' sh "$source_n" "$1"
}

# _bench_start HOST: `postfix stop`, then the ms from `postfix start` to a 220 on port 25.
_bench_start() {
  e2e_exec "$1" -- /usr/bin/python3 -c '
import socket, subprocess, sys, time
subprocess.run(["postfix", "stop"], capture_output=True)
for _ in range(200):
    if subprocess.run(["pgrep", "-x", "master"], capture_output=True).returncode:
        break
    time.sleep(0.05)
t0 = time.monotonic()
subprocess.run(["postfix", "start"], check=True, capture_output=True)
while time.monotonic() - t0 < 30:
    try:
        with socket.create_connection(("127.0.0.1", 25), 1) as s:
            s.settimeout(5)
            if s.recv(3) == b"220":
                print("%.1f" % ((time.monotonic() - t0) * 1000))
                sys.exit(0)
    except OSError:
        time.sleep(0.002)
sys.exit("no 220 on port 25 within 30 s")
'
}

# _bench_stats NAME MS...: the result line of a list of samples.
_bench_stats() {
  local name=$1
  shift
  /usr/bin/python3 -c '
import statistics, sys
t = [float(x) for x in sys.argv[2:]]
p95 = statistics.quantiles(t, n=20)[18] if len(t) > 1 else t[0]
print("%s %d %.2f %.2f %.2f %.2f" % (sys.argv[1], len(t), statistics.median(t), p95, statistics.fmean(t), max(t)))
' "$name" "$@"
}

# bench_traffic: local mode with Maildir on a fresh mail host; latency to carol and to
# world, DKIM overhead, Postfix start, each with its baseline, variants interleaved.
bench_traffic() {
  local mailpid worldpid port r out ms signed
  local -a dkim=() none=() start_mail=() start_world=()
  _dns_begin
  trap _bench_end EXIT
  _bench_config local
  e2e_exec mail -- firstboot run --profile standard >/dev/null 2>&1 || e2e_die "firstboot run (local) failed"
  e2e_exec mail -- useradd --create-home carol
  e2e_exec mail -- sh -c 'cat >>/etc/postfix/master.cf && postfix reload' <<<"$_BENCH_MASTER" >/dev/null 2>&1
  for port in 25 2525 2526 2527; do
    e2e_retry 10 e2e_exec mail -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
      e2e_die "mail does not listen on 127.0.0.1:$port"
  done
  mailpid=$(e2e_host_pid mail)
  worldpid=$(e2e_host_pid world)
  # Sender and recipient of the test net; mail's netns, the machine's mounts (Maildirs
  # of both hosts through /proc/PID/root).
  nsenter -t "$mailpid" -n -- /usr/bin/python3 "$bench/mail-latency.py" "$n" 5 \
    "local=smtp:25:carol@example.test:/proc/$mailpid/root/home/carol/Maildir/new" \
    "local_nomilter=smtp:2525:carol@example.test:/proc/$mailpid/root/home/carol/Maildir/new" \
    "local_floor=floor:/proc/$mailpid/root/home/carol/bench-floor" ||
    e2e_die "local latency: $(e2e_exec mail -- tail -n 5 /var/log/mail.log)"
  nsenter -t "$mailpid" -n -- /usr/bin/python3 "$bench/mail-latency.py" "$n" 5 \
    "world=smtp:25:bob@example.net:/proc/$worldpid/root/home/bob/Maildir/new" \
    "world_nomilter=smtp:2525:bob@example.net:/proc/$worldpid/root/home/bob/Maildir/new" ||
    e2e_die "latency to world: $(e2e_exec mail -- tail -n 5 /var/log/mail.log)"

  # DKIM: the same message (2 KiB) through OpenDKIM or no milter, rounds interleaved.
  printf 'From: admin@example.test\nTo: carol@example.test\nSubject: bench smtp-source\n\n%s\n' \
    "$(head -c 1536 /dev/zero | tr '\0' 'x' | fold -w 72)" | e2e_put mail /tmp/bench-msg.eml
  for r in 1 2 3; do
    out=$(_bench_source 2526) || e2e_die "smtp-source into 2526 failed"
    read -r ms signed <<<"$out"
    [[ $signed == yes ]] || e2e_die "smtp-source through OpenDKIM: the message is not signed"
    dkim+=("$(echo "scale=4; $ms / 1000 / $source_n" | bc)")
    out=$(_bench_source 2527) || e2e_die "smtp-source into 2527 failed"
    read -r ms signed <<<"$out"
    [[ $signed == no ]] || e2e_die "smtp-source without milters: the message is signed"
    none+=("$(echo "scale=4; $ms / 1000 / $source_n" | bc)")
  done
  _bench_stats dkim_signed "${dkim[@]}"
  _bench_stats dkim_unsigned "${none[@]}"

  e2e_exec mail -- sh -c 'sed -i "/^# fb-bench begin/,/^# fb-bench end/d" /etc/postfix/master.cf && postfix reload' >/dev/null 2>&1
  for r in 1 2 3 4 5 6 7 8 9 10; do
    start_mail+=("$(_bench_start mail)") || e2e_die "postfix start on mail"
    start_world+=("$(_bench_start world)") || e2e_die "postfix start on world"
  done
  _bench_stats start_mail "${start_mail[@]}"
  _bench_stats start_world "${start_world[@]}"
}

# bench_report FILE: the table, each figure beside its baseline and seed 002's target.
bench_report() {
  /usr/bin/python3 - "$1" "$n" "$source_n" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 6:
        rows.setdefault(f[0], []).append([float(x) for x in f[2:]])
def pick(name, i):  # median over repeated lines (fresh runs) of column i
    v = sorted(r[i] for r in rows[name])
    return v[len(v) // 2]
def fmt(ms):
    if ms < 10:
        return "%.2f ms" % ms
    return "%.1f ms" % ms if ms < 10000 else "%.1f s" % (ms / 1000)
W = "%-38s %-21s %-36s %-8s %s"
print(W % ("figure", "ours p50 / p95", "baseline p50 / p95", "target", "ours/target"))
def line(what, ours, base, target, basename):
    o = "%s / %s" % (fmt(ours[0]), fmt(ours[1]))
    b = "%s / %s (%s)" % (fmt(base[0]), fmt(base[1]), basename) if base else "-"
    t = fmt(target) if target else "-"
    ratio = "%.4f" % (ours[1] / target) if target else "-"
    print(W % (what, o, b, t, ratio))
g = lambda k: (pick(k, 0), pick(k, 1))
line("local delivery (submit -> Maildir)", g("local"), g("local_nomilter"), 5000, "no milters")
line("  floor: write+fsync+rename", g("local_floor"), None, None, "")
line("delivery to world (-> its Maildir)", g("world"), g("world_nomilter"), 30000, "no milters")
# smtp-source rounds: p50 is the median round, p95 the slowest (3 rounds).
s, u = rows["dkim_signed"][0], rows["dkim_unsigned"][0]
over = s[0] - u[0]
print(W % ("DKIM signing overhead per message", "%s (p50 - p50)" % fmt(over), "-", fmt(100),
           "%.4f" % (over / 100)))
line("  per message: OpenDKIM vs no milter", (s[0], s[3]), (u[0], u[3]), None, "no milter")
print("%-38s %.0f msg/s signed, %.0f msg/s unsigned (smtp-source: %s messages a round, 1 session)" %
      ("  throughput (median round)", 1000 / s[0], 1000 / u[0], sys.argv[3]))
line("Postfix start (postfix start -> 220)", g("start_mail"), g("start_world"), 5000, "world")
for mode in ("relay", "local", "full"):
    k = "run_" + mode
    if k in rows:
        line("firstboot run, %s mode (fresh host)" % mode, g(k), g("noop_" + mode), None, "no-op re-run")
print("latency: %s messages per figure; DKIM: median / slowest of 3 rounds; run: median of %d fresh runs per mode; ours/target: p95 / target" %
      (sys.argv[2], len(rows.get("run_local", []))))
PY
}
