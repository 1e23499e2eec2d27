#!/usr/bin/env bash
# The cost of user time as a user meets it: bench/rules_cli.sh with the bundled rules without
# user time (`timezone:`, `quiet_hours:` and `calendar: user` taken out) as A and the bundled
# rules as B.
# Usage: bench/user_time_cli.sh [BINARY] [EVENTS] [USERS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk '/^timezone:/ {next} /^quiet_hours:/ {skip=1; next} skip && /^  / {next} {skip=0}
     /calendar: user/ {next} {print}' rules/rules.yaml >"$dir/plain.yaml"
bench/rules_cli.sh "${1:-target/release/workbench}" "$dir/plain.yaml" rules/rules.yaml \
  "${2:-300000}" "${3:-30000}" "${4:-5}"
