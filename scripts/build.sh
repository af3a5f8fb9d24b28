#!/usr/bin/env bash
# Configures and builds reattest.
# Usage: scripts/build.sh BUILD_DIR [release|asan] [extra cmake args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$1
flavor=${2:-release}
shift $(( $# >= 2 ? 2 : 1 ))

case "$flavor" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DREATTEST_WERROR=ON) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREATTEST_SANITIZE=ON -DREATTEST_WERROR=ON) ;;
  *) echo "unknown build flavor: $flavor" >&2; exit 2 ;;
esac

cmake -S "$top" -B "$build_dir" "${flags[@]}" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
