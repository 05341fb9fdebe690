# Helpers of the crash harness (tests/crash/run.sh): the fresh root, snapshots of a tree
# and the checks a case makes. Sourced, not run.

# fresh_root DIR: the offline root bench/run.sh lays out (hosts, hostname, machine-id and
# examples/config.yaml), nothing else.
fresh_root() {
  mkdir -p "$1/etc/firstboot" "$1/var/lib" "$1/var/log"
  printf '127.0.0.1 localhost\n127.0.1.1 debian\n' >"$1/etc/hosts"
  echo debian >"$1/etc/hostname"
  echo 0123456789abcdef0123456789abcdef >"$1/etc/machine-id"
  cp "$CRASH_REPO/examples/config.yaml" "$1/etc/firstboot/config.yaml"
}

# The self-signed key and certificate are new on every run: their bytes are not compared,
# their pairing is (check_ssl), and so are their path, type, mode and owner.
is_random_file() { [[ $1 == ./etc/firstboot/ssl/*.key || $1 == ./etc/firstboot/ssl/*.crt ]]; }

# snapshot DIR: one line per path below DIR outside firstboot's own state and log
# directories (/var/lib/firstboot, /var/log/firstboot): path, type, mode, owner, and the
# sha256 of a file's contents (a symlink's target).
snapshot() {
  local p t m o l h
  (cd "$1" && find . \( -path ./var/lib/firstboot -o -path ./var/log/firstboot \) -prune -o \
    -printf '%p\t%y\t%m\t%u:%g\t%l\n' | LC_ALL=C sort) |
    while IFS=$'\t' read -r p t m o l; do
      h=
      if [[ $t == f ]]; then
        if is_random_file "$p"; then h='(random)'; else h=$(sha256sum <"$1/$p" | cut -c1-64); fi
      elif [[ $t == l ]]; then
        h="-> $l"
      fi
      printf '%s %s %s %s %s\n' "$p" "$t" "$m" "$o" "$h"
    done
}

# own_files DIR: what a user reads in firstboot's own directories, without run ids and
# times: state.json (modules, results, managed paths and hashes; the random files' hashes
# masked) and the DNS record files (the TLSA digest masked: check_ssl compares it).
own_files() {
  local f
  if [[ -f $1/var/lib/firstboot/state.json ]]; then
    echo "== state.json"
    sed -E '/"(last_run|finished_at)": /d
      s/("[^"]*\.(key|crt)": )"[0-9a-f]{64}"/\1"(random)"/' "$1/var/lib/firstboot/state.json"
  fi
  for f in "$1"/var/log/firstboot/dns/*; do
    [[ -f $f ]] || continue
    echo "== dns/${f##*/}"
    sed -E 's/(3 1 1 )[0-9a-f]{64}/\1(digest)/' "$f"
  done
}

# temp_files DIR: firstboot's temporary files left anywhere in DIR (none may remain).
temp_files() { find "$1" -name '.*.firstboot-*' -printf '/%P\n'; }

# spki_sha256 FILE (key or certificate): sha256 of its public key (a TLSA 3 1 1 digest).
spki_sha256() {
  if [[ $1 == *.crt ]]; then
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER
  else
    openssl pkey -in "$1" -pubout -outform DER
  fi 2>/dev/null | sha256sum | cut -c1-64
}

# check_ssl DIR: each certificate has its key beside it, holding the same public key, and
# the TLSA record written for it names that key. Prints what is wrong.
check_ssl() {
  local crt key want got
  for crt in "$1"/etc/firstboot/ssl/*.crt; do
    [[ -f $crt ]] || continue
    key=${crt%.crt}.key
    if ! command -v openssl >/dev/null; then
      echo "openssl is needed to check ${crt#"$1"} against its key"
      return
    fi
    if [[ ! -f $key ]]; then
      echo "${crt#"$1"} has no key beside it"
      continue
    fi
    want=$(spki_sha256 "$crt")
    got=$(spki_sha256 "$key")
    [[ $want == "$got" ]] || echo "${key#"$1"} does not match ${crt#"$1"}"
    for got in $(sed -nE 's/.*TLSA +3 1 1 ([0-9a-f]{64}).*/\1/p' "$1"/var/log/firstboot/dns/*.zone 2>/dev/null); do
      [[ $got == "$want" ]] || echo "TLSA 3 1 1 $got is not the key of ${crt#"$1"}"
    done
  done
}

# diff_lines A B: the first lines that differ between two files, on one line each.
diff_lines() {
  { diff "$1" "$2" || true; } | sed -n 's/^</  want: /p; s/^>/  got:  /p' |
    awk -v n="${CRASH_DIFF_LINES:-6}" 'NR <= n'
}
