# shellcheck shell=bash disable=SC2034 # its variables are used by the files that source it
# Installing the machine packages the test hosts use.
#
# Hosts see the machine's /usr through their overlays, so every program a host
# runs is installed here, on the machine, with Debian's apt-get. Nothing is
# downloaded from anywhere else. Installation is skipped when everything is
# already present, so a second run starts at once.

# The packages the stage needs. Later issues append theirs (certbot, opendkim,
# dovecot...) to this list: programs must be installed on the machine, since a
# test host has no route to any package mirror.
E2E_PACKAGES=(
  iproute2        # ip netns, veth, bridge
  util-linux      # unshare, nsenter, flock
  knot            # authoritative DNS on `dns`
  knot-dnsutils   # kdig, knsupdate, keymgr
  dnsutils        # dig/nsupdate, for people debugging by hand
  pebble          # ACME test CA on `acme`
  postfix         # MTA on `world` (and, later, on `mail` via firstboot)
  dovecot-core    # SASL server of world's smarthost (Postfix asks Dovecot's auth)
  libsasl2-modules # SASL mechanisms of Postfix's smtp client (relay mode on `mail`)
  swaks           # SMTP test client
  libio-socket-inet6-perl # lets swaks speak SMTP over IPv6 (-6)
  libnet-ssleay-perl # lets swaks speak TLS (--tls, --tls-on-connect)
  python3-dkim    # dkimverify
  python3-spf     # pyspf (spfquery)
  openssl
  curl
  ca-certificates
  procps          # ps/pgrep inside hosts
  certbot         # ACME client of 7-ssl_config (provider acme)
  cron            # runs /etc/cron.d/certbot where there is no systemd
  fail2ban        # 10-monitoring (advanced profile)
  e2fsprogs       # chattr, for the rollback fault scenarios
  dovecot-imapd   # 9-mail_config full mode (with dovecot-core): IMAPS/POP3S, LMTP
  dovecot-pop3d
  dovecot-lmtpd
  opendkim        # 9-mail_config's DKIM signer on `mail`
  testssl.sh      # grades the TLS of mail's ports (70-mail-local.sh)
  opendmarc       # 9-mail_config's DMARC checks on `mail` (local and full modes)
  postfix-policyd-spf-python # its SPF policy agent
  nftables        # drops mail's outbound port 25 (preflight, 75-validate-smtp.sh)
)

# Is package $1 installed (dpkg says "install ok installed")?
e2e_pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# Install whatever of E2E_PACKAGES (plus any extra names given) is missing.
#
# Postfix is preseeded to "No configuration" so its postinst neither asks nor
# writes a main.cf. While apt-get runs, a policy-rc.d answering 101 stops every
# package from starting its daemon on the machine (no postfix, no knotd); it is
# removed again afterwards unless the machine already had one.
e2e_install_packages() {
  local -a missing=()
  local pkg
  for pkg in "${E2E_PACKAGES[@]}" "$@"; do
    e2e_pkg_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    e2e_log "packages: all present"
    return 0
  fi
  e2e_log "packages: installing ${missing[*]}"

  local policy=/usr/sbin/policy-rc.d created=0 rc=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# fb-e2e: no daemon starts while packages install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created=1
    # If we are killed before removing it, the next run's stale cleanup does.
    : >"$E2E_STATE/policy-rc.d.created"
  fi

  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  local -a opts=(-q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=120)
  {
    apt-get "${opts[@]}" update &&
      apt-get "${opts[@]}" install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"
  } >"$E2E_STATE/logs/apt.log" 2>&1 || rc=$?

  if ((created)); then
    rm -f "$policy" "$E2E_STATE/policy-rc.d.created"
  fi
  if ((rc != 0)); then
    tail -n 30 "$E2E_STATE/logs/apt.log" >&2
    e2e_die "apt-get failed (exit $rc), see above"
  fi
}
