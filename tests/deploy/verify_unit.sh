#!/usr/bin/env bash
# Verifies a systemd unit with `systemd-analyze verify`, which exits 0 even on
# unknown keys: any output at all fails. The unit's binary path is pointed at
# the built binary, since verify checks that ExecStart exists.
# Usage: verify_unit.sh UNIT_FILE REATTEST_BINARY. Exit 77: no systemd-analyze (skipped).
set -euo pipefail
unit=$1
binary=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found: skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/local/bin/reattest#$binary#g" "$unit" >"$dir/$(basename "$unit")"
output=$(systemd-analyze verify --man=no "$dir/$(basename "$unit")" 2>&1) || true
if [ -n "$output" ]; then
  echo "$output"
  exit 1
fi
