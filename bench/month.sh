#!/usr/bin/env bash
# A month of production (issue #15): `workbench gen --days DAYS --mix active` (most users with
# a few events, some with thousands), then `workbench run` on it with the bundled rules and a
# JSON report, a fresh process per round, alternating the shard counts. Prints each round
# (wall seconds, events/s, peak RSS) and the medians per shard count.
# Usage: bench/month.sh [BINARY] [EVENTS] [USERS] [DAYS] [ROUNDS] ["SHARDS ..."] [FORMAT]
# Defaults: target/release/workbench 10000000 300000 30 1 "1 2" json.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/workbench}
events=${2:-10000000}
users=${3:-300000}
days=${4:-30}
rounds=${5:-1}
shards=${6:-"1 2"}
format=${7:-json}
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/month.XXXXXX")
trap 'rm -rf "$dir"' EXIT

start=$(date +%s.%N)
"$bin" gen --users "$users" --events "$events" --days "$days" --mix active --seed 42 \
  --out "$dir/stream.jsonl"
echo "generated $events events over $users users, $days days: $(du -h "$dir/stream.jsonl" | cut -f1)," \
  "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"

# One run: prints "seconds peak_rss_mib".
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" run "$dir/stream.jsonl" --rules rules/rules.yaml \
    --format "$format" --output "$dir/report" --shards "$1" >/dev/null || [ $? -eq 1 ]
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$dir/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for round in $(seq "$rounds"); do
  for s in $shards; do
    m=$(measure "$s")
    echo "$m" >>"$dir/shards-$s"
    echo "round $round, $s shard(s): $(echo "$m" | awk -v e="$events" '{printf "%s s, %.0f events/s, peak RSS %s MiB", $1, e / $1, $2}')"
  done
done
for s in $shards; do
  sec=$(cut -d' ' -f1 "$dir/shards-$s" | median)
  rss=$(cut -d' ' -f2 "$dir/shards-$s" | median)
  echo "median, $s shard(s): $sec s, $(awk -v e="$events" -v s="$sec" 'BEGIN {printf "%.0f", e / s}') events/s, peak RSS $rss MiB"
done
