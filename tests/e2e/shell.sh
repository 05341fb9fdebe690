#!/bin/bash
# A shell (or one command) inside a test host of a stage kept up with
# `tests/e2e/run.sh --keep`:
#
#   sudo tests/e2e/shell.sh mail                  interactive bash on mail
#   sudo tests/e2e/shell.sh world tail /var/log/mail.log
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$dir/lib/common.sh"
# shellcheck source=lib/hosts.sh
source "$dir/lib/hosts.sh"

if (($# == 0)) || [[ "$1" == -h || "$1" == --help ]]; then
  sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "hosts: ${E2E_HOSTS[*]}"
  exit 2
fi
host=$1
shift
pid=$(e2e_host_pid "$host") || exit 2
kill -0 "$pid" 2>/dev/null || e2e_die "host $host is not running (run tests/e2e/run.sh --keep)"
if (($# == 0)); then
  set -- bash -l
fi
exec 9>&-
e2e_exec "$host" -- "$@"
