#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the agent on its
# embedded default (trust domain example.org, unix attestor, an SVID for the
# invoking user). Extra arguments go to `reattest run`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$top/build/release" release
exec "$top/build/release/cli/reattest" run "$@"
