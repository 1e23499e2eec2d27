#!/usr/bin/env bash
# Mutation tests (cargo-mutants): does the test suite notice when the engine, the rules, the
# guards or the pipeline are broken on purpose? Exits non-zero when a mutant survives.
#
#   scripts/mutants.sh                 every mutant of the scope below (the core's ~650: about
#                                      1½ hours on 2 cores; the pipeline's ~50 take longer each)
#   scripts/mutants.sh --in-diff [BASE]
#                                      only mutants on lines changed against BASE (default: the
#                                      merge base with origin/main, or HEAD~1 when that is HEAD
#                                      itself, as on a clone of main), within MUTANTS_BUDGET
#   scripts/mutants.sh --core | --pipeline   one half only (combines with --in-diff)
#
# The core's mutants (engine, rules, guards, user time, the wording of hours) run against the
# core's unit tests; the pipeline's against the application's unit tests and its fast
# integration tests (no PostgreSQL). Equivalent mutants are excluded, each with its reason, in
# .cargo/mutants.toml. Results: target/mutants.out/{core,pipeline}/mutants.out/.
#
# Environment: MUTANTS_JOBS (parallel builds, default 1), MUTANTS_TIMEOUT (seconds per test
# run, default 120), MUTANTS_BUDGET (seconds of wall clock for each half with --in-diff,
# default 600; when it runs out, what was tested is judged and the rest is reported untested).
set -euo pipefail
cd "$(dirname "$0")/.."

in_diff=false
base=""
halves=(core pipeline)
while [ $# -gt 0 ]; do
  case "$1" in
    --in-diff)
      in_diff=true
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then base="$2"; shift; fi
      ;;
    --core) halves=(core) ;;
    --pipeline) halves=(pipeline) ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mutants.sh: unknown argument \`$1\` (see --help)" >&2; exit 2 ;;
  esac
  shift
done

core_files=(
  crates/workbench-core/src/engine.rs
  'crates/workbench-core/src/engine/*.rs'
  crates/workbench-core/src/rules.rs
  'crates/workbench-core/src/rules/*.rs'
  crates/workbench-core/src/fmt.rs
  crates/workbench-core/src/time.rs
  'crates/workbench-core/src/time/*.rs'
)
pipeline_files=(src/pipeline.rs)
# The pipeline's fast tests: its unit tests and the integration tests that run events through
# it on SQLite (the PostgreSQL suites start clusters of their own: minutes per mutant).
pipeline_tests=(--lib --test invariants --test guard_invariants --test guards --test templates
  --test user_time --test run_cli)

# The core builds in a target directory of its own: `-p workbench-core` resolves other
# features than the workspace build, and would otherwise rebuild the shared dependencies both
# ways. The pipeline builds where `cargo test` does, so CI's dependencies are warm.
target="${CARGO_TARGET_DIR:-$PWD/target}"
out_root=target/mutants.out
mkdir -p "$out_root"

diff_file=""
if $in_diff; then
  if [ -z "$base" ]; then
    if git rev-parse -q --verify origin/main >/dev/null; then
      base=$(git merge-base origin/main HEAD)
    fi
    if [ -z "$base" ] || [ "$base" = "$(git rev-parse HEAD)" ]; then
      base=$(git rev-parse -q --verify HEAD~1 || true)
    fi
  fi
  if [ -z "$base" ]; then
    echo "mutants: no base to diff against (a single commit?): nothing to test"
    exit 0
  fi
  diff_file="$out_root/in-diff.patch"
  # Against the working tree, so uncommitted edits count too.
  git diff --no-ext-diff "$base" -- crates/workbench-core/src src/pipeline.rs >"$diff_file"
  echo "mutants: lines changed against $(git rev-parse --short "$base")"
fi

# Whether the diff touches one of the given globs outside test files.
touches() {
  local f g
  while read -r f; do
    case "$f" in *tests.rs) continue ;; esac
    for g in "$@"; do
      # shellcheck disable=SC2053 # glob matching is the point
      [[ $f == $g ]] && return 0
    done
  done < <(sed -n 's#^+++ b/##p' "$diff_file")
  return 1
}

status=0
for half in "${halves[@]}"; do
  if [ "$half" = core ]; then
    files=("${core_files[@]}")
    args=(-p workbench-core --cargo-test-arg=--lib)
    export CARGO_TARGET_DIR="$target/mutants"
  else
    files=("${pipeline_files[@]}")
    args=(-p workbench)
    export CARGO_TARGET_DIR="$target"
    for t in "${pipeline_tests[@]}"; do args+=("--cargo-test-arg=$t"); done
  fi
  cmd=(cargo mutants "${args[@]}" --jobs "${MUTANTS_JOBS:-1}" --timeout "${MUTANTS_TIMEOUT:-120}"
    --build-timeout 1800 --exclude '**/*tests.rs' --output "$out_root/$half")
  for f in "${files[@]}"; do cmd+=(--file "$f"); done
  limit=()
  if $in_diff; then
    if ! touches "${files[@]}"; then
      echo "mutants ($half): no change in scope, nothing to test"
      continue
    fi
    cmd+=(--in-diff "$diff_file")
    limit=(timeout --signal=INT --kill-after=60 "${MUTANTS_BUDGET:-600}")
  fi
  # Installed on first need: a change outside the scope costs nothing.
  if ! command -v cargo-mutants >/dev/null; then
    echo "installing cargo-mutants (cargo install cargo-mutants --locked)" >&2
    cargo install cargo-mutants --locked --quiet
  fi
  echo "mutants ($half): ${cmd[*]}"
  rc=0
  "${limit[@]}" "${cmd[@]}" || rc=$?
  out="$out_root/$half/mutants.out"
  missed=$(cat "$out/missed.txt" 2>/dev/null || true)
  if [ -n "$missed" ]; then
    echo "FAIL: mutants ($half) the tests did not notice:" >&2
    echo "$missed" >&2
    status=1
  elif [ "$rc" = 124 ] || [ "$rc" = 130 ]; then
    echo "mutants ($half): the ${MUTANTS_BUDGET:-600}s budget ran out; none missed among" \
      "$(cat "$out"/{caught,timeout,unviable}.txt 2>/dev/null | wc -l) tested" >&2
  elif [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
    # 3: some mutants made the tests hang (caught by the timeout); anything else is a failure.
    echo "FAIL: cargo mutants ($half) exited $rc" >&2
    status=1
  fi
done
exit "$status"
