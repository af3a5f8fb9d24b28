#!/usr/bin/env bash
# Runs every benchmark scenario against reattest and the bare gRPC baseline in
# one run, with the same client, for Workload API (X.509) and SDS streams, and
# writes bench/RESULTS.md (a table of reattest, baseline and ratio) and
# bench/results.csv (every raw figure).
# Needs root (the recovery scenario puts the client into a container cgroup).
#
# Usage: bench/run.sh [REPEATS]   (env: STREAMS=10000 IDLE_SECONDS=60
#                                   CONNECTIONS=2000 RECOVERIES=20
#                                   CONTAINERS=1000 STREAMS_PER_CONTAINER=10)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
repeats=${1:-3}
streams=${STREAMS:-10000}
idle_seconds=${IDLE_SECONDS:-60}
connections=${CONNECTIONS:-2000}
recoveries=${RECOVERIES:-20}
containers=${CONTAINERS:-1000}
streams_per_container=${STREAMS_PER_CONTAINER:-10}

"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$top/build/release" release >/dev/null
cmake --build "$top/build/release" --target bench_load bench_baseline -j "$(nproc)" >/dev/null
bin=$top/build/release
load=$bin/bench/bench_load

dir=$(mktemp -d /tmp/rt-bench-XXXXXX)
csv=$dir/results.csv
agent_pid="" baseline_pid=""
v2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
cgroups=$v2/reattest-bench  # containers' cgroups: $cgroups/docker/<64 hex>
cleanup() {
  for pid in $agent_pid $baseline_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rmdir "$cgroups"/docker/* "$cgroups/docker" "$cgroups" 2>/dev/null || true
  rm -rf "$dir"
}
new_container_cgroup() {
  local path
  path=$cgroups/docker/$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$path"
  echo "$path"
}
trap cleanup EXIT

# The bench config of the issue: unix attestor plus docker against the fake
# Docker API, fast retries, no periodic re-attestation. Limits are raised so
# that ten thousand streams from one user are allowed.
# A hint edit re-mints the entry's SVID (identity/snapshot.cc), so it changes
# the X.509 message and the SDS `default` secret alike.
entries() {  # $1: a hint that makes the file (and every SVID message) change
  cat <<YAML
entries:
  - spiffe_id: spiffe://example.org/bench
    selectors: [unix:uid:0]
    hint: "$1"
  - spiffe_id: spiffe://example.org/web
    selectors: [unix:uid:0, docker:label:app:web]
YAML
}
entries a > "$dir/entries.yaml"
cat > "$dir/config.yaml" <<YAML
trust_domain: example.org
socket_path: $dir/agent.sock
data_dir: $dir/data
log: {level: warn}
limits: {max_connections_per_uid: 100000, max_streams_per_connection: 100}
attestors:
  unix: {}
  docker: {socket_path: $dir/docker.sock, timeout: 1s}
reattestation: {initial_backoff: 200ms, max_backoff: 1s, jitter: 0.2, periodic_interval: 0}
identity: {local: {entries_file: entries.yaml}}
YAML

wait_socket() { for _ in $(seq 1 400); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
# Both servers start afresh for every repeat: memory freed by an earlier
# repeat stays in the allocator and would hide what streams cost.
start_servers() {
  "$bin/cli/reattest" run --config "$dir/config.yaml" 2>>"$dir/agent.log" &
  agent_pid=$!
  wait_socket "$dir/agent.sock"
  local captured
  for captured in x509 sds; do
    [ -f "$dir/$captured.bin" ] || "$load" capture --api $captured --socket "$dir/agent.sock" \
      --out "$dir/$captured.bin" >/dev/null
  done
  "$bin/bench/bench_baseline" "$dir/baseline.sock" "$dir/x509.bin" "$dir/sds.bin" &
  baseline_pid=$!
  wait_socket "$dir/baseline.sock"
}
stop_servers() {
  kill "$agent_pid" "$baseline_pid"
  wait "$agent_pid" "$baseline_pid" || true
  agent_pid="" baseline_pid=""
}

echo "server,scenario,metric,repeat,value" > "$csv"
record() {  # server scenario repeat < key=value lines
  while IFS='=' read -r key value; do
    echo "$1,$2,$key,$3,$value" >> "$csv"
    echo "  $1 $2 $key = $value"
  done
}

flip=a
for r in $(seq 1 "$repeats"); do
  echo "repeat $r of $repeats"
  for api in x509 sds; do
    prefix=$([ $api = sds ] && echo sds_ || true)
    start_servers
    for server in reattest baseline; do
      if [ $server = reattest ]; then sock=$dir/agent.sock; pid=$agent_pid; else sock=$dir/baseline.sock; pid=$baseline_pid; fi
      # Memory first, on a fresh server; latency after.
      if [ $server = reattest ]; then
        flip=$([ $flip = a ] && echo b || echo a)
        entries $flip > "$dir/entries.next"
        trigger="mv $dir/entries.next $dir/entries.yaml"
      else
        trigger="kill -USR1 $baseline_pid"
      fi
      # A scenario that fails is reported and leaves its figures out ("-" in
      # RESULTS.md) rather than ending the run.
      "$load" streams --api $api --socket "$sock" --server-pid "$pid" --streams "$streams" \
        --per-connection 100 --idle-seconds "$idle_seconds" --trigger "$trigger" |
        record $server "${prefix}streams" "$r" || echo "FAILED: $server ${prefix}streams, repeat $r"
      "$load" latency --api $api --socket "$sock" --connections "$connections" |
        record $server "${prefix}latency" "$r" || echo "FAILED: $server ${prefix}latency, repeat $r"
    done
    stop_servers
  done
done
# Recovery push: a process in a container's cgroup connects while the Docker
# API fails, gets the unix-only set, and the API heals (reattest only: the
# baseline has no attestation).
cgroup=$(new_container_cgroup)
start_servers
for r in $(seq 1 "$recoveries"); do
  bash -c "echo \$\$ > $cgroup/cgroup.procs && exec $load recovery --socket $dir/agent.sock \
    --docker-socket $dir/docker.sock --expect-id spiffe://example.org/web" | record reattest recovery "$r"
done

# Recovery storm: every container degraded at once, then the API heals.
for _ in $(seq 1 "$containers"); do new_container_cgroup; done > "$dir/storm.cgroups"
"$load" storm --socket "$dir/agent.sock" --docker-socket "$dir/docker.sock" \
  --expect-id spiffe://example.org/web --cgroups "$dir/storm.cgroups" \
  --streams-per-container "$streams_per_container" | record reattest storm 1
stop_servers

cp "$csv" "$top/bench/results.csv"
"$top/bench/report.sh" "$csv" "$streams" "$connections" "$idle_seconds" "$containers" \
  "$streams_per_container" > "$top/bench/RESULTS.md"
[ -f "$top/bench/analysis.md" ] && cat "$top/bench/analysis.md" >> "$top/bench/RESULTS.md"
cat "$top/bench/RESULTS.md"
