# The crash harness's --double form (tests/crash/run.sh): a run killed mid-module, then
# the next run killed again while it recovers (each of its calls up to the journal's end
# in turn), then a third run must finish as an uninterrupted one. Sourced, not run.
# Uses what cases.sh uses.

# recovery_points TREE: the kill points of the next run's recovery on TREE (left with a
# module in flight): each call of CRASH_SYSCALLS up to and including the unlink of
# inflight.json that ends the journal, as SYSCALL:N (opens only when they may create).
recovery_points() {
  rm -rf "$W/probe"
  cp -a "$1" "$W/probe"
  strace -f -qq -o "$W/rerun.trace" -e trace="$(trace_set)" \
    "$BIN" --root "$W/probe" run --profile advanced -q >/dev/null 2>&1 || true
  awk '
    match($0, /^[0-9]+ +[a-z0-9_]+\(/) {
      name = $2; sub(/\(.*/, "", name); n[name]++
      if (name !~ /^open/ || /O_CREAT/) print name ":" n[name]
      if (name ~ /^unlink/ && /inflight\.json"/) exit
    }' "$W/rerun.trace"
}

# run_double: for each kill point of `rename` (sampled with --quick) that leaves a module
# in flight, every kill point of the next run's recovery.
run_double() {
  local n p
  local -a firsts seconds
  mapfile -t firsts < <(kill_points "$W/all.trace" rename)
  ((quick)) && mapfile -t firsts < <(sample "${firsts[@]}")
  for n in "${firsts[@]}"; do
    rm -rf "$W/first"
    cp -a "$W/orig" "$W/first"
    killed_run "$W/first" rename "$n" || continue
    [[ -f $W/first/var/lib/firstboot/inflight.json ]] || continue
    mapfile -t seconds < <(recovery_points "$W/first")
    local before=$failed
    for p in "${seconds[@]}"; do run_case "rename:$n+$p"; done
    printf 'rename:%-4s then %3d recovery kill points, %d failed\n' "$n" "${#seconds[@]}" "$((failed - before))"
  done
}
