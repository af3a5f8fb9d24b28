#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs every check CI
# runs: formatting, a Release build with warnings as errors and all tests,
# then an ASan+UBSan build with the unit and socket tests.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)

step "formatting (clang-format-14)"
scripts/check-format.sh

step "release build (-Werror)"
scripts/build.sh build/release release
step "release tests"
(cd build/release && ctest --output-on-failure -j 2 --timeout 300)

step "kubelet storms: /pods requests counted by the k8s tests"
grep -h "storm: " build/release/Testing/Temporary/LastTest.log

step "ASan+UBSan build"
scripts/build.sh build/asan asan
step "ASan+UBSan unit and socket tests"
# The Docker Engine tests run in the Release job only (NOTES: CI budget).
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j 2 --timeout 300 -R '^(unit|e2e|k8s):')
