#!/usr/bin/env bash
# Compare two `workbench` binaries' HTTP path in one run: alternating rounds on the same
# machine, each on a fresh SQLite database, one connection (the single-event path: latency of
# one request at a time) and 32 connections (throughput). Prints each round, then medians and
# the new/old ratio.
# Usage: bench/serve_compare.sh OLD_BINARY NEW_BINARY [SECONDS] [ROUNDS] ["CONNECTION COUNTS"]
# e.g. an old revision:  git worktree add /tmp/old REV && (cd /tmp/old && cargo build --release)
#                        bench/serve_compare.sh /tmp/old/target/release/workbench target/release/workbench
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
old=$1
new=$2
seconds=${3:-5}
rounds=${4:-5}
connection_counts=${5:-1 32}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }

# One measurement: prints "requests_per_second p50_ms p99_ms".
measure() {
  local bin=$1 connections=$2 dir addr pid out
  dir=$(mktemp -d)
  NO_COLOR=1 "$bin" serve --port 0 --database-url "sqlite:///$dir/bench.db" \
    --rules rules/rules.yaml --messages "$dir/messages.txt" 2>"$dir/server.log" &
  pid=$!
  addr=$(serve_address "$dir/server.log")
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/events.lua "$addr")
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"
  to_ms() { awk '{ v=$1; if (v ~ /us$/) { sub(/us/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms/,"",v); print v } else { sub(/s/,"",v); print v*1000 } }'; }
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)" \
    "$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for connections in $connection_counts; do
  : >"/tmp/compare.old.$connections"; : >"/tmp/compare.new.$connections"
  for round in $(seq "$rounds"); do
    o=$(measure "$old" "$connections"); n=$(measure "$new" "$connections")
    echo "c=$connections round $round: old $o | new $n   (req/s p50_ms p99_ms)"
    echo "$o" >>"/tmp/compare.old.$connections"; echo "$n" >>"/tmp/compare.new.$connections"
  done
  for col in 1 2 3; do
    mo=$(cut -d' ' -f$col "/tmp/compare.old.$connections" | median)
    mn=$(cut -d' ' -f$col "/tmp/compare.new.$connections" | median)
    name=$(echo "requests/s p50_ms p99_ms" | cut -d' ' -f$col)
    echo "c=$connections median $name: old $mo, new $mn, new/old $(awk -v a="$mn" -v b="$mo" 'BEGIN {printf "%.3f", a/b}')"
  done
done
