#!/usr/bin/env bash
# Benchmark without the e2e stage: `firstboot validate 9-mail_config` on this machine,
# inside private mount and network namespaces (loopback only; /etc/firstboot,
# /var/lib/firstboot and /var/log/firstboot are tmpfs there), against a Knot serving a
# small example.test (MX, A, SPF with an include, DMARC, PTR) on 127.0.0.2 behind
# bench/dns-delay.py on 127.0.0.1, which delays each answer by D ms. Postfix and the
# rest are absent (their checks fail). The DNS part is the span from the first query
# the forwarder sees to its last answer, reported as a multiple of D, beside the same
# queries replayed one after another.
#
#   sudo bench/validate-local.sh [RUNS]    (default 5; delays BENCH_DELAYS="0 50 100")
# The dev build (dependencies optimized, see Cargo.toml): the time is the network's.
set -euo pipefail
cd "$(dirname "$0")/.."
((EUID == 0)) || { echo "run as root (namespaces, mounts)" >&2 && exit 2; }
if [[ "${1:-}" != --inside ]]; then
  cargo build --quiet
  exec unshare --mount --net --propagation private -- "$0" --inside "${1:-5}"
fi
runs=$2
delays=${BENCH_DELAYS:-0 50 100}
bin=$PWD/target/debug/firstboot
work=$(mktemp -d)
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
for d in /etc/firstboot /var/lib/firstboot /var/log/firstboot; do
  mkdir -p "$d" && mount -t tmpfs tmpfs "$d"
done

cat >"$work/example.test.zone" <<'ZONE'
$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.2
@ MX 10 mail
mail A 127.0.0.10
mail TXT "v=spf1 ip4:127.0.0.10 -all"
@ TXT "v=spf1 ip4:127.0.0.10 include:_spf.example.test -all"
_spf TXT "v=spf1 a:relay.example.test -all"
relay A 127.0.0.20
_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"
ZONE
cat >"$work/rev.zone" <<'ZONE'
$ORIGIN 0.0.127.in-addr.arpa.
$TTL 300
@ SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ NS ns1.example.test.
10 PTR mail.example.test.
ZONE
cat >"$work/knot.conf" <<KNOT
server:
    rundir: $work
    user: root:root
    listen: 127.0.0.2@53
database:
    storage: $work
zone:
  - domain: example.test
    file: $work/example.test.zone
  - domain: 0.0.127.in-addr.arpa
    file: $work/rev.zone
KNOT
knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
knot=$!
head -c 32 /dev/urandom | base64 >/etc/firstboot/tsig.key
chmod 0600 /etc/firstboot/tsig.key
cat >/etc/firstboot/config.yaml <<CONF
domain: example.test
hostname: mail.example.test
ipv4: 127.0.0.10
dns:
  publish:
    server: 127.0.0.1
    tsig_name: firstboot
    tsig_secret_file: /etc/firstboot/tsig.key
CONF
fwd=""
stop() {
  [[ -n "$fwd" ]] && kill "$fwd" 2>/dev/null
  kill "$knot" 2>/dev/null
  rm -rf "$work"
}
trap stop EXIT
sleep 0.5

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-7s %-10s %-8s %-18s %s\n' delay validate queries "DNS part (x D)" "sequential (x D)"
for d in $delays; do
  [[ -n "$fwd" ]] && kill "$fwd" && sleep 0.2
  python3 bench/dns-delay.py serve 127.0.0.1 127.0.0.2 "$d" "$work/q.log" >/dev/null &
  fwd=$!
  sleep 0.5
  walls=()
  spans=()
  for ((r = 0; r < runs; r++)); do
    : >"$work/q.log"
    t0=$(date +%s%N)
    "$bin" validate 9-mail_config --profile standard >"$work/out.txt" 2>&1 || true
    t1=$(date +%s%N)
    walls+=($(((t1 - t0) / 1000000)))
    spans+=("$(python3 bench/dns-delay.py span "$work/q.log")")
  done
  wall=$(median "${walls[@]}")
  dns=$(median "${spans[@]}")
  read -r seq queries < <(python3 bench/dns-delay.py replay 127.0.0.1 "$work/q.log")
  if ((d > 0)); then
    printf '%-7s %-10s %-8s %-18s %s\n' "${d}ms" "${wall}ms" "$queries" \
      "${dns}ms ($(echo "scale=1; $dns / $d" | bc)x)" \
      "${seq}ms ($(echo "scale=1; $seq / $d" | bc)x)"
  else
    printf '%-7s %-10s %-8s %-18s %s\n' 0ms "${wall}ms" "$queries" "${dns}ms" "${seq}ms"
  fi
done
grep -E "dns\.|DNS" "$work/out.txt" | head -40
