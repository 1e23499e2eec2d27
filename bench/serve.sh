#!/usr/bin/env bash
# Load-test `workbench serve` over loopback with wrk (Debian: `apt-get install wrk`): a file
# database in WAL mode, varied bodies across many users, 32 connections.
# Usage: bench/serve.sh [DURATION_SECONDS] [CONNECTIONS]
# WORKBENCH_BIN runs that binary instead of building target/release/workbench.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
duration=${1:-20}
connections=${2:-32}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
bin=${WORKBENCH_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=./target/release/workbench
fi
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
NO_COLOR=1 "$bin" serve --port 0 --database-url "sqlite:///$dir/bench.db" \
  --rules rules/rules.yaml --messages "$dir/messages.txt" 2>"$dir/server.log" &
pid=$!
addr=$(serve_address "$dir/server.log")
wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/events.lua "$addr"
kill -TERM $pid; wait $pid || true
echo
echo "rows: $(sqlite3 "$dir/bench.db" 'select count(*) from decisions' 2>/dev/null || echo '?') decisions," \
  "$(wc -l < "$dir/messages.txt") messages.txt lines," \
  "$(sqlite3 "$dir/bench.db" 'select count(*) from send_requests' 2>/dev/null || echo '?') send requests"
