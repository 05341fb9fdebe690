# shellcheck shell=bash
# Host `world`: a real Postfix, MX of example.net (mx.example.net), that
# delivers mail for bob@example.net (and bob@home.example.test, a domain whose
# MX is mail, which forwards it here) to /home/bob/Maildir/ and logs to
# /var/log/mail.log (no syslog daemon needed: postlogd writes the file).
#
# It is also a smarthost (an ISP's or a mail provider's relay): submission on
# 587 (STARTTLS) and 465 (implicit TLS), both requiring TLS and SMTP AUTH, and
# relaying for whoever authenticated. Port 25 offers no AUTH and relays for
# nobody. The test account is E2E_RELAY_USER; its password, made per stage, is
# /run/e2e/relay.secret inside every host.
#
# SASL server: Dovecot's auth service, which Postfix's smtpd asks through a
# socket in its queue directory (smtpd_sasl_type = dovecot). Chosen over Cyrus
# (sasldb2) because it needs one passwd-file and one listener, no saslauthd and
# no per-service smtpd.conf, and because Dovecot is what full mode uses too.
#
# swaks, dkimverify (python3-dkim) and spfquery (python3-spf) are machine
# packages, so scenarios run them here with e2e_exec world -- ...

E2E_RELAY_USER=relay@example.test

e2e_world_up() {
  local shared="$E2E_STATE/shared"
  e2e_exec world -- useradd --create-home --shell /bin/bash bob
  e2e_put world /etc/postfix/main.cf 0644 <<'EOF2'
# fb-e2e: host world, the MX of example.net and a smarthost for example.test
compatibility_level = 3.6
myhostname = mx.example.net
mydomain = example.net
myorigin = $mydomain
# home.example.test: world is also the internal host mail forwards it to.
mydestination = $mydomain, $myhostname, localhost, home.example.test
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = $myhostname ESMTP
home_mailbox = Maildir/
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
biff = no
# No syslog daemon runs in test hosts: postlogd writes this file.
maillog_file = /var/log/mail.log
# TLS offered on 25; required on the submission ports (master.cf).
smtpd_tls_cert_file = /etc/postfix/smarthost.crt
smtpd_tls_key_file = /etc/postfix/smarthost.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
# SASL through Dovecot's auth socket; enabled only on 587 and 465 (master.cf).
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
EOF2
  # The submission services: TLS first, then AUTH, then relay for the
  # authenticated only (relaying without AUTH is refused: 554 5.7.1).
  e2e_exec world -- sh -c '
    for svc in submission/inet smtps/inet; do
      postconf -M "$svc=${svc%/*} inet n - n - - smtpd"
    done
    for svc in submission smtps; do
      postconf -P "$svc/inet/syslog_name=postfix/$svc" \
        "$svc/inet/smtpd_sasl_auth_enable=yes" \
        "$svc/inet/smtpd_tls_auth_only=yes" \
        "$svc/inet/smtpd_relay_restrictions=permit_sasl_authenticated,reject" \
        "$svc/inet/smtpd_recipient_restrictions=permit_sasl_authenticated,reject"
    done
    postconf -P submission/inet/smtpd_tls_security_level=encrypt \
      smtps/inet/smtpd_tls_wrappermode=yes'
  e2e_exec world -- openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj /CN=mx.example.net -addext subjectAltName=DNS:mx.example.net \
    -keyout /etc/postfix/smarthost.key -out /etc/postfix/smarthost.crt 2>/dev/null
  e2e_exec world -- chmod 0600 /etc/postfix/smarthost.key

  # The relay account: a random password, its SHA512-CRYPT hash for Dovecot.
  openssl rand -hex 16 >"$shared/relay.secret"
  chmod 0644 "$shared/relay.secret"
  printf '%s:{SHA512-CRYPT}%s\n' "$E2E_RELAY_USER" \
    "$(openssl passwd -6 -stdin <"$shared/relay.secret")" |
    e2e_put world /etc/dovecot/smarthost.passwd 0640 root:dovecot
  e2e_put world /etc/dovecot/dovecot.conf 0644 <<'EOF2'
# fb-e2e: Dovecot on world only as Postfix's SASL server (no IMAP, no POP3)
protocols =
ssl = no
log_path = /var/log/dovecot.log
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = /etc/dovecot/smarthost.passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF2
  e2e_exec world -- dovecot -c /etc/dovecot/dovecot.conf ||
    e2e_die "dovecot on world did not start: $(e2e_exec world -- tail -n 5 /var/log/dovecot.log 2>&1)"
  e2e_retry 20 e2e_exec world -- test -S /var/spool/postfix/private/auth ||
    e2e_die "dovecot on world has no auth socket for postfix"

  # Debian runs smtpd & co. chrooted in /var/spool/postfix; its init script
  # copies resolv.conf and friends in there, `postfix start` does not. Here
  # nothing runs chrooted, so lookups use the host's own /etc.
  e2e_exec world -- sh -c '
    postconf -F "*/*/chroot = n" &&
    newaliases &&
    postfix check &&
    postfix start' >/dev/null 2>&1 || {
    e2e_exec world -- postfix check || true
    e2e_die "postfix on world did not start"
  }
  local port
  for port in 25 587 465; do
    e2e_retry 20 e2e_exec world -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
      e2e_die "postfix on world does not listen on port $port"
  done
}
