#!/usr/bin/env bash
# `workbench serve` (SQLite file, WAL) under wrk with and without a unique Idempotency-Key on
# every request, alternating, each round a fresh server and database. Prints each round, then
# the medians and the ratio.
# Usage: bench/serve_idempotency.sh [SECONDS] [ROUNDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
seconds=${1:-10}
rounds=${2:-3}
connections=${3:-32}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# One round: prints requests/s.
measure() {
  local dir pid addr
  dir=$(mktemp -d -p "$root")
  NO_COLOR=1 ./target/release/workbench serve --port 0 --database-url "sqlite:///$dir/b.db" \
    --rules rules/rules.yaml --messages "$dir/messages.txt" 2>"$dir/server.log" &
  pid=$!
  addr=$(serve_address "$dir/server.log")
  wrk -t2 -c"$connections" -d"${seconds}s" -s bench/events.lua "$addr" -- "$1" |
    awk '/Requests\/sec/ {print $2}'
  kill -TERM $pid; wait $pid || true
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$root/plain"; : >"$root/keys"
for round in $(seq "$rounds"); do
  p=$(measure plain); k=$(measure keys)
  echo "round $round: without keys $p req/s | with keys $k req/s"
  echo "$p" >>"$root/plain"; echo "$k" >>"$root/keys"
done
mp=$(median <"$root/plain"); mk=$(median <"$root/keys")
echo "median: without keys $mp req/s, with keys $mk req/s; with/without $(awk -v a="$mp" -v b="$mk" 'BEGIN {printf "%.3f", b/a}')"
