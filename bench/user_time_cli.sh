#!/usr/bin/env bash
# The cost of user time as a user meets it: `workbench run` end to end (a fresh process each
# round) on one generated stream, with the bundled rules (zones, quiet hours, a `calendar:
# user` rule) and with the same rules with user time taken out, alternating. Prints each
# round, then the medians and the ratio.
# Usage: bench/user_time_cli.sh [BINARY] [EVENTS] [USERS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/workbench}
events=${2:-300000}
users=${3:-30000}
rounds=${4:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" gen --users "$users" --events "$events" --out "$dir/stream.jsonl"
# The same rules without `timezone:`, `quiet_hours:` and `calendar: user`.
awk '/^timezone:/ {next} /^quiet_hours:/ {skip=1; next} skip && /^  / {next} {skip=0}
     /calendar: user/ {next} {print}' rules/rules.yaml >"$dir/plain.yaml"

measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" run "$dir/stream.jsonl" --rules "$1" \
    --format json --output "$dir/report.json" >/dev/null || [ $? -eq 1 ]
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$dir/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$dir/plain"; : >"$dir/zoned"
for round in $(seq "$rounds"); do
  p=$(measure "$dir/plain.yaml"); z=$(measure rules/rules.yaml)
  echo "round $round: without user time $p | with $z   (seconds peak_MiB)"
  echo "$p" >>"$dir/plain"; echo "$z" >>"$dir/zoned"
done
sp=$(cut -d' ' -f1 "$dir/plain" | median); sz=$(cut -d' ' -f1 "$dir/zoned" | median)
echo "median wall: without ${sp} s, with ${sz} s; with/without time $(awk -v a="$sp" -v b="$sz" 'BEGIN {printf "%.3f", b/a}')"
