#!/usr/bin/env bash
# Two rules files as a user meets them: `workbench run` end to end (a fresh process each
# round, a JSON report) on one generated stream, alternating. Prints each round, then the
# medians of wall time and peak RSS and the B/A time ratio.
# Usage: bench/rules_cli.sh BINARY RULES_A RULES_B [EVENTS] [USERS] [ROUNDS]
set -euo pipefail
bin=$1
a=$2
b=$3
events=${4:-300000}
users=${5:-30000}
rounds=${6:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" gen --users "$users" --events "$events" --out "$dir/stream.jsonl"

measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" run "$dir/stream.jsonl" --rules "$1" \
    --format json --output "$dir/report.json" >/dev/null || [ $? -eq 1 ]
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$dir/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$dir/a"; : >"$dir/b"
for round in $(seq "$rounds"); do
  x=$(measure "$a"); y=$(measure "$b")
  echo "round $round: A $x | B $y   (seconds peak_MiB)"
  echo "$x" >>"$dir/a"; echo "$y" >>"$dir/b"
done
sa=$(cut -d' ' -f1 "$dir/a" | median); sb=$(cut -d' ' -f1 "$dir/b" | median)
ma=$(cut -d' ' -f2 "$dir/a" | median); mb=$(cut -d' ' -f2 "$dir/b" | median)
echo "A = $a, B = $b"
echo "median wall: A ${sa} s, B ${sb} s; B/A time $(awk -v x="$sa" -v y="$sb" 'BEGIN {printf "%.3f", y/x}')"
echo "median peak RSS: A ${ma} MiB, B ${mb} MiB"
