#!/usr/bin/env bash
# Build the RPM package: target/generate-rpm/firstboot-<version>-1.<arch>.rpm (its path
# is the last line printed), from [package.metadata.generate-rpm] in Cargo.toml and the
# same binary, man page and completions as the Debian package (packaging/assets.sh).
# Installs cargo-generate-rpm (cargo install cargo-generate-rpm --locked) when missing.
#
#   bash packaging/build-rpm.sh            build it
#   sudo dnf install ./target/generate-rpm/firstboot-*.rpm     on Fedora/RHEL
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-generate-rpm >/dev/null 2>&1; then
  echo "build-rpm: installing cargo-generate-rpm (cargo install cargo-generate-rpm --locked)" >&2
  cargo install cargo-generate-rpm --locked
fi

bash packaging/assets.sh
rm -f target/generate-rpm/firstboot-*.rpm
cargo generate-rpm >&2
ls target/generate-rpm/firstboot-*.rpm | tail -n 1
