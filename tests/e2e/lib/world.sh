# shellcheck shell=bash
# Host `world`: a real Postfix, MX of example.net (mx.example.net), that
# delivers mail for bob@example.net to /home/bob/Maildir/ and logs to
# /var/log/mail.log (no syslog daemon needed: postlogd writes the file).
#
# swaks, dkimverify (python3-dkim) and spfquery (python3-spf) are machine
# packages, so scenarios run them here with e2e_exec world -- ...

e2e_world_up() {
  e2e_exec world -- useradd --create-home --shell /bin/bash bob
  e2e_put world /etc/postfix/main.cf 0644 <<'EOF'
# fb-e2e: host world, the MX of example.net
compatibility_level = 3.6
myhostname = mx.example.net
mydomain = example.net
myorigin = $mydomain
mydestination = $mydomain, $myhostname, localhost
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
EOF
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
  e2e_retry 20 e2e_exec world -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' ||
    e2e_die "postfix on world does not listen on port 25"
}
