# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# A fingerprint of what the stage must never change on the machine: its
# names, resolver, users, the configuration of the daemons the hosts run,
# and its own network. Taken before the hosts are built and compared at the
# end (scenario machine_unchanged).

E2E_MACHINE_FILES=(/etc/hostname /etc/hosts /etc/resolv.conf /etc/mailname
  /etc/passwd /etc/group /etc/shadow /etc/aliases)
E2E_MACHINE_TREES=(/etc/postfix /etc/knot /etc/pebble /var/lib/knot /var/spool/postfix)

e2e_machine_fingerprint() {
  local f
  echo "uts-hostname $(hostname)"
  for f in "${E2E_MACHINE_FILES[@]}"; do
    if [[ -e "$f" ]]; then
      echo "$f $(sha256sum <"$f" | cut -d' ' -f1)"
    else
      echo "$f absent"
    fi
  done
  for f in "${E2E_MACHINE_TREES[@]}"; do
    if [[ -e "$f" ]]; then
      # Every entry: path, type, mode, owner, size, and the content's hash.
      find "$f" -printf '%p %y %m %u:%g %s\n' | sort | while read -r p rest; do
        if [[ -f "$p" ]]; then
          echo "$p $rest $(sha256sum <"$p" | cut -d' ' -f1)"
        else
          echo "$p $rest"
        fi
      done
    else
      echo "$f absent"
    fi
  done
  # Who has a home (listing only: /home may be large on a workstation).
  find /home -mindepth 1 -maxdepth 1 -printf 'home %f %y %m %u:%g\n' 2>/dev/null | sort
  # The machine's own network: addresses and routes of the root namespace.
  ip -br addr | sed 's/^/ip-addr /'
  ip route | sed 's/^/ip-route /'
  ip -6 route | sed -e 's/ expires [0-9]*sec//' -e 's/^/ip6-route /'
}
