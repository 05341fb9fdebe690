#!/usr/bin/env bash
# Build the release binary and what the packages install beside it: the man page and the
# bash, zsh and fish completions, made by that very binary (`firstboot man`,
# `firstboot completions SHELL`) into target/packaging/, so what a package installs
# cannot drift from the binary. Used by build-deb.sh and build-rpm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
bin=target/release/firstboot
out=target/packaging
rm -rf "$out"
mkdir -p "$out/completions"
"$bin" man >"$out/firstboot.8"
"$bin" completions bash >"$out/completions/firstboot.bash"
"$bin" completions zsh >"$out/completions/_firstboot"
"$bin" completions fish >"$out/completions/firstboot.fish"
