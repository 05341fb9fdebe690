#!/usr/bin/env bash
# Run cargo-mutants (arguments passed through) where a mutant cannot touch this machine.
#
# The integration tests run the real binary as root on temporary trees (`--root`). A
# mutant that turns "offline root" into "live" (a `cx.host.is_live()` guard replaced by
# `true`) makes that binary act on the running system: it happened, a member-step
# mutant ran `usermod -a -G opendmarc postfix` on the machine and a set_hostname one
# renamed it. So this runs cargo-mutants in a private mount and UTS namespace whose
# /etc, /var and /usr are overlays on a tmpfs (writes vanish with the namespace) and
# whose host name is its own; the worktree and ~/.cargo stay the real ones (the build).
#
#   sudo tests/mutants.sh --in-place --baseline skip -f src/steps/member.rs -C --lib ...
#
# As root (namespaces, mounts). Use a worktree of its own: --in-place edits sources.
set -euo pipefail
((EUID == 0)) || { echo "mutants.sh: run as root" >&2; exit 2; }
command -v cargo-mutants >/dev/null 2>&1 || cargo install --locked cargo-mutants
scratch=$(mktemp -d /tmp/fb-mutants.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
exec unshare --mount --uts --propagation private -- bash -c '
  set -euo pipefail
  scratch=$1; shift
  mount -t tmpfs fb-mutants "$scratch"
  for d in etc var usr; do
    mkdir -p "$scratch/upper/$d" "$scratch/work/$d"
    mount -t overlay "fb-mutants-$d" \
      -o "lowerdir=/$d,upperdir=$scratch/upper/$d,workdir=$scratch/work/$d" "/$d"
  done
  hostname fb-mutants
  exec nice -n 10 cargo mutants "$@"
' bash "$scratch" "$@"
