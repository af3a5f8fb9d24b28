#!/usr/bin/env bash
# Interop check: independent clients (pure-JavaScript gRPC) fetch and verify
# identities from the built agent: by default the Workload API clients (an
# X.509-SVID, then a JWT-SVID), or one other client script such as
# sds_envoy.mjs.
# Usage: tests/interop/run.sh PATH_TO_REATTEST [CLIENT_SCRIPT]
set -euo pipefail
reattest=$1
if [ $# -ge 2 ]; then
  clients=("$2")
else
  clients=(fetch_x509.mjs fetch_jwt.mjs)
fi
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
for client in "${clients[@]}"; do
  node "$here/$client" "$dir/api.sock" spiffe://example.org/interop
done
