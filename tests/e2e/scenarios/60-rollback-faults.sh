# shellcheck shell=bash
# Rollback under faults a temp root cannot fake, on the machine itself: an offline
# tree on a tmpfs mounted in a private mount namespace (gone when the scenario
# ends, so nothing of it reaches the machine). An immutable file (chattr +i) makes
# a module fail mid-way; a full file system makes a temp copy impossible. In both,
# the rollback restores everything it can and says what it could not.

# _faults_tree DIR: a small fresh VM's files under DIR.
_faults_tree() {
  local r=$1
  mkdir -p "$r/etc/firstboot" "$r/var/lib" "$r/var/log"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n' >"$r/etc/hosts"
  printf 'debian\n' >"$r/etc/hostname"
  printf '0123456789abcdef0123456789abcdef\n' >"$r/etc/machine-id"
  printf 'domain: example.test\nipv4: 192.0.2.10\nadmin_email: admin@example.test\n' \
    >"$r/etc/firstboot/config.yaml"
}

# _faults_ns SIZE SCRIPT: run bash SCRIPT with $R a fresh tmpfs of SIZE holding
# _faults_tree, $FB the binary, in a private mount namespace; prints its output.
_faults_ns() {
  local size=$1 script=$2 dir
  dir=$(mktemp -d /tmp/fb-faults.XXXXXX)
  unshare -m --propagation private bash -c '
    set -u
    R=$1 FB=$2 size=$3
    mount -t tmpfs -o "size=$size" tmpfs "$R" || exit 99
    '"$(declare -f _faults_tree)"'
    _faults_tree "$R"
    eval "$4"
  ' bash "$dir" "$E2E_STATE/shared/bin/firstboot" "$size" "$script"
  local rc=$?
  rmdir "$dir"
  return "$rc"
}

scenario_rollback_faults_immutable_file() {
  e2e_require_firstboot
  local out
  out=$(_faults_ns 16M '
    printf "old.example.test\n" >"$R/etc/mailname"
    chattr +i "$R/etc/mailname"
    "$FB" --root "$R" run --profile advanced -q; echo "rc1=$?"
    echo "hostname=$(cat "$R/etc/hostname")"
    cmp -s "$R/etc/hosts" <(printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n") && echo hosts=original
    [ -e "$R/var/lib/firstboot/inflight.json" ] && echo inflight=left
    "$FB" --root "$R" run --profile advanced -q; echo "rc2=$?"
    chattr -i "$R/etc/mailname"
    "$FB" --root "$R" run --profile advanced -q --overwrite; echo "rc3=$?"
    echo "mailname=$(cat "$R/etc/mailname")"
  ' 2>&1) || e2e_fail "scenario shell failed: $out"
  printf '%s\n' "$out"
  e2e_assert_contains "$out" "rc1=1" "first run fails"
  e2e_assert_contains "$out" "/etc/mailname" "the failure names the immutable file"
  e2e_assert_contains "$out" "hostname=debian" "/etc/hostname rolled back"
  e2e_assert_contains "$out" "hosts=original" "/etc/hosts rolled back"
  [[ "$out" != *"inflight=left"* ]] || e2e_fail "the journal was left behind: $out"
  e2e_assert_contains "$out" "rc2=1" "a rerun fails the same way"
  [[ "$out" != *"edited by hand"* ]] || e2e_fail "a rerun saw a false drift: $out"
  e2e_assert_contains "$out" "rc3=0" "once the file is writable, the run finishes"
  e2e_assert_contains "$out" "mailname=example.test" "mailname written"
}

scenario_rollback_faults_full_disk() {
  e2e_require_firstboot
  local out
  # After the run, two things the rollback cannot remove (made immutable), so that it
  # frees no room before restoring /etc/hostname and /etc/hosts on a full disk: no temp
  # copy fits, the files are rewritten where they are.
  out=$(_faults_ns 8M '
    "$FB" --root "$R" run --profile standard -q; echo "rc1=$?"
    chattr +i "$R/etc/mailname" "$R/var/log/firstboot/dns"
    dd if=/dev/zero of="$R/fill" bs=4k 2>/dev/null
    : >"$R/probe" 2>/dev/null || touch "$R/probe" 2>/dev/null
    printf x >>"$R/probe" 2>/dev/null || echo disk=full
    "$FB" --root "$R" rollback dns --force; echo "rc2=$?"
    echo "hostname=$(cat "$R/etc/hostname")"
    cmp -s "$R/etc/hosts" <(printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n") && echo hosts=original
    chattr -i "$R/etc/mailname" "$R/var/log/firstboot/dns"
    rm -f "$R/fill" "$R/probe"
    "$FB" --root "$R" rollback dns --force; echo "rc3=$?"
    [ -e "$R/etc/mailname" ] || echo mailname=absent
  ' 2>&1) || e2e_fail "scenario shell failed: $out"
  printf '%s\n' "$out"
  e2e_assert_contains "$out" "rc1=0" "the run"
  e2e_assert_contains "$out" "disk=full" "the file system is full"
  e2e_assert_contains "$out" "rc2=1" "an incomplete rollback exits 1"
  e2e_assert_contains "$out" "could not restore /etc/mailname" "each file not restored is named"
  e2e_assert_contains "$out" "hostname=debian" "/etc/hostname restored on a full disk"
  e2e_assert_contains "$out" "hosts=original" "/etc/hosts restored on a full disk"
  e2e_assert_contains "$out" "rc3=0" "with room again, a second rollback completes"
  e2e_assert_contains "$out" "mailname=absent" "/etc/mailname removed then"
}
