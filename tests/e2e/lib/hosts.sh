# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# Test hosts: network namespaces, the router that joins them, and one
# long-lived process per host that owns its mount, UTS and PID namespaces.
#
# Topology (documentation ranges only; see docs/testing.md):
#
#   segment "lan": bridge br-lan in netns fb-rt, 192.0.2.0/24 + 2001:db8::/64
#   segment "net": bridge br-net in netns fb-rt, 198.51.100.0/24 + 2001:db8:1::/64
#   fb-rt routes between the two and has no other route: nothing leaves.

E2E_HOSTS=(dns acme world mail)

declare -A E2E_HOST_FQDN=(
  [dns]=ns1.example.test
  [acme]=acme.example.test
  [world]=mx.example.net
  [mail]=mail.example.test
)
declare -A E2E_HOST_V4=(
  [dns]=192.0.2.53
  [acme]=192.0.2.30
  [world]=198.51.100.20
  [mail]=192.0.2.10
)
declare -A E2E_HOST_V6=(
  [dns]=2001:db8::53
  [acme]=2001:db8::30
  [world]=2001:db8:1::20
  [mail]=2001:db8::10
)
declare -A E2E_HOST_SEGMENT=([dns]=lan [acme]=lan [world]=net [mail]=lan)

# The router's address on each segment (each host's default gateway).
declare -A E2E_SEG_V4=([lan]=192.0.2.1/24 [net]=198.51.100.1/24)
declare -A E2E_SEG_V6=([lan]=2001:db8::1/64 [net]=2001:db8:1::1/64)

E2E_DNS_V4=192.0.2.53
E2E_DNS_V6=2001:db8::53

# PATH inside hosts: the firstboot binary under test comes first.
E2E_HOST_PATH=/run/e2e/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

e2e_ns() { printf '%s%s' "$E2E_NS_PREFIX" "$1"; }

e2e_host_pid() {
  local f="$E2E_STATE/hosts/$1/pid"
  [[ -s "$f" ]] || { echo "no such test host: $1 (is the stage up?)" >&2; return 1; }
  cat "$f"
}

# e2e_exec HOST [--] COMMAND [ARGS...]
# Run COMMAND inside HOST: its mounts, hostname, network and PIDs, with a
# clean environment (nothing of the machine's leaks in). stdin, stdout and
# stderr are passed through; the exit status is COMMAND's.
e2e_exec() {
  local host=$1 pid
  shift
  [[ "${1:-}" == "--" ]] && shift
  pid=$(e2e_host_pid "$host") || return 1
  nsenter -t "$pid" -m -u -n -p -- \
    env -i PATH="$E2E_HOST_PATH" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    E2E_HOST="$host" "$@"
}

# e2e_put HOST PATH [MODE [OWNER]] < CONTENT: write a file inside HOST.
e2e_put() {
  local host=$1 path=$2 mode=${3:-0644} owner=${4:-root:root}
  e2e_exec "$host" -- sh -c \
    'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1" && chown "$3" "$1"' \
    sh "$path" "$mode" "$owner"
}

# e2e_mail_config [YAML-LINE...]: write firstboot's config in mail: the mail host's
# facts (domain, host name, addresses, admin address), then the given lines.
e2e_mail_config() {
  {
    printf 'domain: example.test\nhostname: %s\nipv4: %s\nipv6: %s\nadmin_email: admin@example.test\n' \
      "${E2E_HOST_FQDN[mail]}" "${E2E_HOST_V4[mail]}" "${E2E_HOST_V6[mail]}"
    if (($#)); then printf '%s\n' "$@"; fi
  } | e2e_put mail /etc/firstboot/config.yaml 0600
}

# e2e_daemon HOST LOGFILE COMMAND...: start a background daemon inside HOST,
# detached from the caller, its output appended to LOGFILE (inside HOST).
e2e_daemon() {
  local host=$1 logfile=$2
  shift 2
  e2e_exec "$host" -- sh -c \
    'log=$1; shift; mkdir -p "$(dirname "$log")"; setsid "$@" </dev/null >>"$log" 2>&1 &' \
    sh "$logfile" "$@"
}

# Run a command in a network namespace only (used for the router).
e2e_netns_exec() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" -- "$@"
}

# The router: one namespace with a bridge per segment, forwarding between
# them. It has no route anywhere else, so no packet can leave the stage.
e2e_router_up() {
  local rt seg
  rt=$(e2e_ns rt)
  ip netns add "$rt"
  e2e_netns_exec "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  ip -n "$rt" link set lo up
  for seg in lan net; do
    ip -n "$rt" link add "br-$seg" type bridge forward_delay 0 stp_state 0
    ip -n "$rt" addr add "${E2E_SEG_V4[$seg]}" dev "br-$seg"
    ip -n "$rt" addr add "${E2E_SEG_V6[$seg]}" dev "br-$seg" nodad
    ip -n "$rt" link set "br-$seg" up
  done
}

# e2e_host_up NAME: create the host's network namespace and its veth to the
# router's bridge, then start its long-lived process (lib/host-init.sh) with
# fresh mount, UTS and PID namespaces. Returns once the host is ready.
e2e_host_up() {
  local name=$1 ns rt seg dir upid pid
  ns=$(e2e_ns "$name")
  rt=$(e2e_ns rt)
  seg=${E2E_HOST_SEGMENT[$name]}
  dir="$E2E_STATE/hosts/$name"
  mkdir -p "$dir"

  ip netns add "$ns"
  e2e_netns_exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  ip -n "$rt" link add "v-$name" type veth peer name eth0 netns "$ns"
  ip -n "$rt" link set "v-$name" master "br-$seg" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "${E2E_HOST_V4[$name]}/24" dev eth0
  ip -n "$ns" addr add "${E2E_HOST_V6[$name]}/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "${E2E_SEG_V4[$seg]%/*}"
  ip -n "$ns" -6 route add default via "${E2E_SEG_V6[$seg]%/*}"

  # setsid: the host survives the runner's terminal (needed by --keep).
  # --kill-child: if unshare dies, the host's init (and with it the whole
  # PID namespace) is killed too.
  setsid nsenter --net="/run/netns/$ns" -- \
    unshare --mount --uts --pid --fork --kill-child=KILL --mount-proc --propagation private -- \
    bash "$E2E_ROOT/lib/host-init.sh" "$name" "${E2E_HOST_FQDN[$name]}" \
    "${E2E_HOST_V4[$name]}" "${E2E_HOST_V6[$name]}" "$dir" "$E2E_STATE/shared" "$E2E_REPO" \
    </dev/null >"$dir/console.log" 2>&1 &
  upid=$!
  echo "$upid" >"$dir/unshare.pid"

  # The host's init is unshare's only child; nsenter needs its PID.
  local deadline=$((SECONDS + 20))
  pid=""
  while [[ -z "$pid" ]]; do
    pid=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null || true)
    pid=${pid%% *}
    if [[ -z "$pid" ]]; then
      kill -0 "$upid" 2>/dev/null || e2e_die "host $name died at start: $(cat "$dir/console.log")"
      ((SECONDS < deadline)) || e2e_die "host $name: no init process"
      sleep 0.05
    fi
  done
  echo "$pid" >"$dir/pid"

  # host-init.sh prints "ready" once its mounts and names are in place.
  deadline=$((SECONDS + 20))
  until grep -qx ready "$dir/console.log"; do
    kill -0 "$pid" 2>/dev/null || e2e_die "host $name died at start: $(cat "$dir/console.log")"
    ((SECONDS < deadline)) || e2e_die "host $name not ready: $(cat "$dir/console.log")"
    sleep 0.05
  done
}

# Kill every process in our namespaces, delete the namespaces and the state
# directory. Safe to call at any time, any number of times, and on the
# leftovers of an earlier run that was killed.
e2e_teardown() {
  local ns pids pidfile pid
  local -a nss=()

  # A scenario or stage build of a killed runner may still be running: it is
  # `timeout`, leader of its own process group; kill the group first.
  if [[ -s "$E2E_STATE/job.pid" ]]; then
    pid=$(<"$E2E_STATE/job.pid")
    if grep -qs 'scenario-exec.sh' "/proc/$pid/cmdline"; then
      kill -9 -- "-$pid" "$pid" 2>/dev/null || true
    fi
  fi

  mapfile -t nss < <(ip netns list 2>/dev/null | awk -v p="$E2E_NS_PREFIX" 'index($1, p) == 1 {print $1}')

  # Every process whose network namespace is one of ours: host inits, their
  # daemons, unshare, any nsenter still running. Killing a host's init kills
  # its whole PID namespace, and its mount namespace (overlays, tmpfs) goes
  # with the last process.
  for _ in {1..10}; do
    pids=""
    for ns in "${nss[@]}"; do
      pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
    for pidfile in "$E2E_STATE"/hosts/*/unshare.pid "$E2E_STATE"/hosts/*/pid; do
      [[ -s "$pidfile" ]] || continue
      pid=$(<"$pidfile")
      # Only if it is still one of ours (PIDs get reused).
      if grep -qs 'host-init.sh' "/proc/$pid/cmdline"; then pids+=" $pid"; fi
    done
    [[ -z "${pids// /}" ]] && break
    # shellcheck disable=SC2086 # word splitting intended: a list of PIDs
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done

  for ns in "${nss[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done

  if [[ -e "$E2E_STATE/policy-rc.d.created" ]] && grep -qs 'fb-e2e' /usr/sbin/policy-rc.d; then
    rm -f /usr/sbin/policy-rc.d
  fi

  if [[ -d "$E2E_STATE" ]]; then
    # Nothing of ours is mounted in the machine's mount namespace; if
    # something is, do not delete through it.
    if grep -qF " $E2E_STATE" /proc/self/mountinfo; then
      e2e_log "warning: mounts under $E2E_STATE remain; not deleting it"
    else
      rm -rf --one-file-system "$E2E_STATE"
    fi
  fi
}
