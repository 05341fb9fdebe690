#!/usr/bin/env bash
# Build the Debian package: target/debian/firstboot_<version>-1_<arch>.deb (its path is
# the last line printed). The man page and the bash, zsh and fish completions are made
# by the very binary being packaged (`firstboot man`, `firstboot completions SHELL`) into
# target/packaging/, so what the package installs cannot drift from the binary.
# Installs cargo-deb (cargo install cargo-deb --locked) when it is missing.
#
#   bash packaging/build-deb.sh            build it
#   sudo dpkg -i target/debian/firstboot_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "build-deb: installing cargo-deb (cargo install cargo-deb --locked)" >&2
  cargo install cargo-deb --locked
fi

bash packaging/assets.sh

# --no-build: the binary above is the one the man page and completions came from.
cargo deb --no-build --locked "$@" | tail -n 1
