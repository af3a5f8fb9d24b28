#!/usr/bin/env bash
# Fails when any C++ file differs from clang-format-14's output.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
files=$(git ls-files '*.cc' '*.h')
if ! clang-format-14 --dry-run -Werror $files; then
  echo "formatting drift: run clang-format-14 -i on the files above" >&2
  exit 1
fi
