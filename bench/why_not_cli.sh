#!/usr/bin/env bash
# Why-not as a user runs it, end to end on a fresh process: `workbench explain --why-not`
# over one user with EVENTS events (load and run the scenario, then why-not), next to
# `workbench run` of the same file, so the difference is what why-not adds. Medians of
# ROUNDS, alternating.
#
#   bench/why_not_cli.sh [BIN] [EVENTS] [ROUNDS] [TEMPLATE]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/workbench}
events=${2:-10000}
rounds=${3:-5}
template=${4:-INSUFFICIENT_FUNDS_EMAIL}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" gen --users 1 --events "$events" --out "$dir/one.jsonl"
user=$(head -c 200 "$dir/one.jsonl" | sed -n 's/.*"user_id":"\([^"]*\)".*/\1/p')
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
: >"$dir/run" ; : >"$dir/why"
for _ in $(seq "$rounds"); do
  ms "$bin" run "$dir/one.jsonl" --rules rules/rules.yaml >>"$dir/run"
  ms "$bin" explain "$dir/one.jsonl" --rules rules/rules.yaml --user "$user" --why-not "$template" >>"$dir/why"
done
run=$(median <"$dir/run")
why=$(median <"$dir/why")
echo "one user, $events events, medians of $rounds: run $run ms, explain --why-not $template $why ms (why-not adds $((why - run)) ms)"
