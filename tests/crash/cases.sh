# The crash harness's kill points and cases (tests/crash/run.sh). Sourced, not run.
# Uses: BIN, W (work dir holding orig, orig.snap, ref.snap), covered, failed.

# Every syscall that changes a file system (`?`: absent on this architecture is fine).
CRASH_SYSCALLS=(write pwrite64 writev pwritev pwritev2 rename renameat renameat2 unlink
  unlinkat rmdir mkdir mkdirat open openat creat fsync fdatasync sync_file_range fchmod chmod
  fchmodat fchown lchown chown fchownat utimensat utimes futimesat ftruncate truncate
  symlink symlinkat link linkat fallocate)

trace_set() { printf '?%s,' "${CRASH_SYSCALLS[@]}" | sed 's/,$//'; }

# calls TRACE: the syscall name of each call in a `strace -f` log, one a line, in order.
calls() { sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$1"; }

# used_syscalls TRACE: the syscalls of CRASH_SYSCALLS the traced run made.
used_syscalls() {
  local s used
  used=$(calls "$1" | sort -u)
  for s in "${CRASH_SYSCALLS[@]}"; do
    grep -qx "$s" <<<"$used" && echo "$s"
  done
  return 0
}

# kill_points TRACE SYSCALL [all]: the call numbers of SYSCALL to kill at (1 = its first
# call). An open or openat counts only when it may create a file (O_CREAT), unless `all`.
kill_points() {
  local filter=.
  [[ $2 == open || $2 == openat ]] && [[ ${3:-} != all ]] && filter=O_CREAT
  grep -E "^[0-9]+ +$2\(" "$1" | grep -n '' | grep -- "$filter" | cut -d: -f1
}

# sample N...: up to ten kill points, all of them; more, every fifth and the last.
sample() {
  local a=("$@") i
  ((${#a[@]})) || return 0
  if ((${#a[@]} <= 10)); then
    printf '%s\n' "${a[@]}"
    return
  fi
  for ((i = 0; i < ${#a[@]}; i += 5)); do echo "${a[i]}"; done
  (((${#a[@]} - 1) % 5 == 0)) || echo "${a[-1]}"
}

# killed_run DIR SYSCALL N: a run on DIR killed on entering the N-th SYSCALL call; the
# strace log is $W/kill.trace. Succeeds if the run was killed.
killed_run() {
  (strace -f -qq -y -o "$W/kill.trace" -e trace="$2" -e inject="$2:signal=SIGKILL:when=$3" \
    "$BIN" --root "$1" run --profile advanced -q >/dev/null 2>&1
    exit 0) 2>/dev/null
  grep -q '+++ killed by SIGKILL' "$W/kill.trace"
}

# first_error FILE: firstboot's error message in an output, on one line.
first_error() {
  { grep -A2 -m1 '^error' "$1" || tail -n2 "$1"; } | tr '\n' ' ' | cut -c1-300
}

# run_case POINT: POINT is SYSCALL:N, or kill points joined by `+` (the first kills the
# run; each next one kills the run after it, e.g. in its recovery). Then rerun and
# compare on the killed tree, roll back and compare on a copy of it.
run_case() {
  local point=$1 k=$W/case kr=$W/case-rb calls= p s n call
  local -a problems=() chain
  rm -rf "$k" "$kr"
  cp -a "$W/orig" "$k"
  IFS=+ read -ra chain <<<"$point"
  for p in "${chain[@]}"; do
    s=${p%%:*} n=${p##*:}
    if ! killed_run "$k" "$s" "$n"; then
      report_case "$point" "${calls:-(none)}" "not killed at $p: the run made fewer $s calls than the traced run"
      return
    fi
    call=$(grep -v '+++' "$W/kill.trace" | tail -n1 | sed -E "s/^[0-9]+ +//; s/ *= \?\$//; s|$k|R|g" | cut -c1-160)
    calls+="${calls:+; then at }$call"
    [[ $s != open* || $call == *O_CREAT* ]] ||
      problems+=("call $n of $s does not create (runs differ from the traced one)")
  done
  covered=$((covered + 1))
  cp -a "$k" "$kr"
  check_rerun "$k"
  check_rollback "$kr"
  ((${#problems[@]} == 0)) || report_case "$point" "$calls" "${problems[@]}"
}

# check_rerun DIR: the next run exits 0 and leaves the uninterrupted run's tree.
check_rerun() {
  local rc=0 bad
  "$BIN" --root "$1" run --profile advanced >"$W/rerun.out" 2>&1 || rc=$?
  ((rc == 0)) || problems+=("rerun: exit $rc: $(first_error "$W/rerun.out")")
  { snapshot "$1" && own_files "$1"; } >"$W/case.snap"
  cmp -s "$W/ref.snap" "$W/case.snap" ||
    problems+=("rerun: tree differs from the uninterrupted run's:" "$(diff_lines "$W/ref.snap" "$W/case.snap")")
  bad=$(temp_files "$1")
  [[ -z $bad ]] || problems+=("rerun: temporary files left: $(echo $bad)")
  bad=$(check_ssl "$1")
  [[ -z $bad ]] || problems+=("rerun: $bad")
  [[ ! -e $1/var/lib/firstboot/inflight.json ]] || problems+=("rerun: inflight.json remains")
}

# check_rollback DIR: `rollback` of the interrupted module, then of the modules the killed
# run had finished (latest first), gives back the original tree (killed before the first
# module began: nothing to roll back, the tree must be the original as it is).
check_rollback() {
  local j=$1/var/lib/firstboot/inflight.json b=$1/var/log/firstboot/backups m= rid= mod rc bad
  local -a mods=()
  if [[ -f $j ]]; then
    m=$(sed -nE 's/.*"module": *"([^"]+)".*/\1/p' "$j")
    rid=$(sed -nE 's/.*"run_id": *"([^"]+)".*/\1/p' "$j")
    mods+=("$m")
  elif [[ -d $b ]]; then
    rid=$(find "$b" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' -quit)
  fi
  if [[ -n $rid && -d $b/$rid ]]; then
    for mod in $(find "$b/$rid" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -rV); do
      [[ $mod == "$m" ]] || mods+=("$mod")
    done
  fi
  for mod in "${mods[@]}"; do
    rc=0
    "$BIN" --root "$1" rollback "$mod" >"$W/rollback.out" 2>&1 || rc=$?
    ((rc == 0)) || problems+=("rollback $mod${m:+ (in flight: $m)}: exit $rc: $(first_error "$W/rollback.out")")
  done
  snapshot "$1" >"$W/case-rb.snap"
  cmp -s "$W/orig.snap" "$W/case-rb.snap" ||
    problems+=("rollback (${mods[*]:-nothing to roll back}): tree differs from the original:" "$(diff_lines "$W/orig.snap" "$W/case-rb.snap")")
  bad=$(temp_files "$1")
  # With nothing to roll back no command ran since the kill: a temp file in firstboot's
  # own directories waits for the next run (which the rerun check covers).
  ((${#mods[@]})) || bad=$(grep -v -e '^/var/lib/firstboot/' -e '^/var/log/firstboot/' <<<"$bad" || true)
  [[ -z $bad ]] || problems+=("rollback: temporary files left: $(echo $bad)")
}

# not_killed_after SYSCALL N: a run with SYSCALL's N-th call as kill point is not killed
# (N is past its last call), so the kill points counted were all of them.
not_killed_after() {
  rm -rf "$W/case" && cp -a "$W/orig" "$W/case"
  if killed_run "$W/case" "$1" "$2"; then
    report_case "$1:$2" "(past the last call)" "killed: the run made more $1 calls than the traced run"
  fi
}

# report_case POINT CALL PROBLEM...: print a failing case.
report_case() {
  failed=$((failed + 1))
  echo "FAIL $1 killed at $2"
  shift 2
  printf '%s\n' "$@" | sed 's/^/  /'
}
