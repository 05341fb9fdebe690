#!/bin/bash
# The long-lived process of one test host: PID 1 of its PID namespace, in its
# own mount, UTS and network namespaces (see e2e_host_up in hosts.sh).
#
# It mounts the host's private view of the machine once, then waits forever,
# reaping orphaned daemons. Every command later enters these namespaces with
# nsenter; killing this process (SIGKILL) ends the host and all it ran.
set -euo pipefail

name=$1 fqdn=$2 ipv4=$3 ipv6=$4 dir=$5 shared=$6 repo=$7

# The mount holding the repository, before anything covers it.
repo_mount=$(findmnt -n -o TARGET --target "$repo")

# Writes to these land in $dir/upper/<dir>, never on the machine.
for d in etc var usr root opt srv; do
  mkdir -p "$dir/upper/$d" "$dir/work/$d"
  mount -t overlay "fb-e2e-$name-$d" \
    -o "lowerdir=/$d,upperdir=$dir/upper/$d,workdir=$dir/work/$d" "/$d"
done

# The shared directory and the repository are below /run or /tmp on some
# machines, which the tmpfs mounts below hide: hold them open first.
exec {shared_fd}<"$shared" {repo_fd}<"$repo"

for d in run tmp home dev/shm; do
  mode=0755
  [[ "$d" == tmp || "$d" == dev/shm ]] && mode=1777
  mount -t tmpfs -o "mode=$mode,nosuid,nodev" "fb-e2e-$name-${d//\//-}" "/$d"
done
mkdir -p /run/lock /run/e2e
chmod 1777 /run/lock

# /run/e2e: files the harness shares with every host (keys, CA roots, the
# firstboot binary), read-only; /run/e2e/repo: the repository, read-only.
mount --bind "/proc/self/fd/$shared_fd" /run/e2e
mount -o remount,bind,ro /run/e2e
mount --bind "/proc/self/fd/$repo_fd" /run/e2e/repo
mount -o remount,bind,ro /run/e2e/repo
exec {shared_fd}<&- {repo_fd}<&-

# A fresh VM of its own: its own machine id, and no policy-rc.d (some CI
# images have one that stops every package from starting its service).
rm -f /etc/machine-id /usr/sbin/policy-rc.d
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id

# Everything else of the machine's root filesystem (/ itself, /boot, the
# repository's path...) is read-only in here; so is the repository's own
# mount, unless one of the mounts above already hides it.
mount -o remount,bind,ro /
case "$repo_mount" in
  / | /etc* | /var* | /usr* | /root* | /opt* | /srv* | /run* | /tmp* | /home*) ;;
  *) mount -o remount,bind,ro "$repo_mount" ;;
esac

# /sys showing this host's network devices, not the machine's.
mount -t sysfs -o ro "fb-e2e-$name-sys" /sys

hostname "$fqdn"
short=${fqdn%%.*}
rm -f /etc/hostname /etc/hosts /etc/resolv.conf /etc/mailname
echo "$fqdn" >/etc/hostname
cat >/etc/hosts <<EOF
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
$ipv4	$fqdn $short
$ipv6	$fqdn $short
EOF
cat >/etc/resolv.conf <<EOF
# fb-e2e: the test DNS server on host dns
nameserver 192.0.2.53
nameserver 2001:db8::53
search ${fqdn#*.}
EOF

echo ready

# PID 1 of the namespace: wait forever; bash reaps the orphans it inherits.
while :; do
  sleep 3600 &
  wait $! || true
done
