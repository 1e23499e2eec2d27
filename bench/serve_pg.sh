#!/usr/bin/env bash
# Load-test `workbench serve` on PostgreSQL with wrk: INSTANCES service instances on one fresh
# database, the connections split between them, one wrk per instance running at once.
# Usage: bench/serve_pg.sh [INSTANCES] [SECONDS] [CONNECTIONS] [POOL_SIZE]
# WORKBENCH_BIN runs that binary instead of building target/release/workbench.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
instances=${1:-1}
duration=${2:-20}
connections=${3:-32}
pool=${4:-8}
server=${WORKBENCH_PG:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
bin=${WORKBENCH_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=./target/release/workbench
fi
db="wb_bench_$RANDOM$RANDOM"
psql "$server/postgres" -qc "CREATE DATABASE $db"
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$dir"
}
trap cleanup EXIT
addrs=()
for i in $(seq "$instances"); do
  mkdir -p "$dir/$i"
  DATABASE_URL="$server/$db" DATABASE_POOL_SIZE=$pool NO_COLOR=1 "$bin" serve \
    --port 0 --rules rules/rules.yaml --messages "$dir/$i/messages.txt" 2>"$dir/$i/server.log" &
  pids+=($!)
  addr=$(serve_address "$dir/$i/server.log")
  addrs+=("$addr")
done
per=$((connections / instances))
wpids=()
for i in $(seq "$instances"); do
  wrk -t1 -c"$per" -d"${duration}s" --latency -s bench/events.lua "${addrs[$((i - 1))]}" >"$dir/$i/wrk.txt" &
  wpids+=($!)
done
for p in "${wpids[@]}"; do wait "$p"; done
for i in $(seq "$instances"); do
  echo "--- instance $i (${addrs[$((i - 1))]}, $per connections)"
  grep -E "Requests/sec|50%|90%|99%|requests in|Socket errors|Non-2xx" "$dir/$i/wrk.txt"
done
echo
echo "rows: $(psql "$server/$db" -tAc 'select count(*) from decisions') decisions," \
  "$(psql "$server/$db" -tAc 'select count(*) from send_requests') send requests," \
  "$(cat "$dir"/*/messages.txt | wc -l) messages.txt lines across instances"
