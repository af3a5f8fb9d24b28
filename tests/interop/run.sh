#!/usr/bin/env bash
# Interop check: an independent Workload API client (pure-JavaScript gRPC)
# fetches and verifies an X.509-SVID and a JWT-SVID from the built agent.
# Usage: tests/interop/run.sh PATH_TO_REATTEST
set -euo pipefail
reattest=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/rt-interop-XXXXXX)
agent_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

if [ ! -d "$here/node_modules/@grpc/grpc-js" ]; then
  echo "interop: node modules missing; run: (cd tests/interop && npm ci)" >&2
  exit 1
fi

uid=$(id -u)
cat > "$dir/entries.yaml" <<YAML
entries:
  - spiffe_id: spiffe://example.org/interop
    selectors: ["unix:uid:$uid"]
YAML
cat > "$dir/config.yaml" <<YAML
trust_domain: example.org
socket_path: $dir/api.sock
data_dir: $dir/data
attestors: {unix: {}}
identity: {local: {entries_file: entries.yaml}}
YAML

"$reattest" run --config "$dir/config.yaml" 2>"$dir/agent.log" &
agent_pid=$!
for _ in $(seq 1 200); do
  [ -S "$dir/api.sock" ] && break
  sleep 0.05
done
node "$here/fetch_x509.mjs" "$dir/api.sock" spiffe://example.org/interop
node "$here/fetch_jwt.mjs" "$dir/api.sock" spiffe://example.org/interop
