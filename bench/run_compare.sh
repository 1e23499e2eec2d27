#!/usr/bin/env bash
# Compare two `workbench` binaries end to end, as a user runs them: `workbench run` on one
# generated stream, each round a fresh process, alternating old and new. Prints each round,
# then the medians of wall time, events/s and peak RSS, and the new/old ratios.
# Usage: bench/run_compare.sh OLD_BINARY NEW_BINARY [EVENTS] [USERS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
events=${3:-300000}
users=${4:-30000}
rounds=${5:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$new" gen --users "$users" --events "$events" --out "$dir/stream.jsonl"

# One run: prints "seconds peak_rss_mib".
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time" "$1" run "$dir/stream.jsonl" --rules rules/rules.yaml \
    --format json --output "$dir/report.json" >/dev/null || [ $? -eq 1 ]
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$dir/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$dir/old"; : >"$dir/new"
for round in $(seq "$rounds"); do
  o=$(measure "$old"); n=$(measure "$new")
  echo "round $round: old $o | new $n   (seconds peak_MiB)"
  echo "$o" >>"$dir/old"; echo "$n" >>"$dir/new"
done
so=$(cut -d' ' -f1 "$dir/old" | median); sn=$(cut -d' ' -f1 "$dir/new" | median)
mo=$(cut -d' ' -f2 "$dir/old" | median); mn=$(cut -d' ' -f2 "$dir/new" | median)
echo "median wall: old ${so} s, new ${sn} s; events/s old $(awk -v e="$events" -v s="$so" 'BEGIN {printf "%.0f", e/s}'), new $(awk -v e="$events" -v s="$sn" 'BEGIN {printf "%.0f", e/s}'); new/old throughput $(awk -v a="$so" -v b="$sn" 'BEGIN {printf "%.3f", a/b}')"
echo "median peak RSS: old ${mo} MiB, new ${mn} MiB"
