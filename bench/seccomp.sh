#!/bin/bash
# Seccomp costs on a container start with the default profile: berth's
# compile-before-clone + seccomp(2) in the child, against loading a kept
# libseccomp context in the child and against compiling in the child (runc).
#   bench/seccomp.sh [ROUNDS]      (default 50; builds build/ if needed)
set -eu
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build bench/bench-seccomp >/dev/null
exec ./build/bench/bench-seccomp data/seccomp/default.json "${1:-50}"
