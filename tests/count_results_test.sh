#!/bin/bash
# Tests tests/count_results.py, which tests/run.sh trusts for its closing
# line, with fake build event files and test logs: one case per way a
# count could go wrong. Prints a line per failed case and, last, "P F S".
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/prochook-count-test-XXXXXX)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0

# A test.log for target name: a doctest summary "P passed | F failed | S
# skipped" ("-" for none) and any extra lines.
log() {
  local name=$1 p=$2 f=$3 s=$4; shift 4
  {
    echo "Executing tests from //t:$name"
    printf '%s\n' "$@"
    [[ $p == - ]] || echo "[doctest] test cases: $((p + f)) | $p passed | $f failed | $s skipped"
  } >"$dir/$name.log"
}
# A testResult event for //t:name with status and extra JSON fields.
result() {
  local name=$1 status=$2 extra=${3:-}
  echo '{"id":{"testResult":{"label":"//t:'"$name"'","run":1,"shard":1,"attempt":1}},"testResult":{"testActionOutput":[{"name":"test.log","uri":"file://'"$dir/$name"'.log"}],"status":"'"$status"'"'"$extra"'}}'
}
# expect WANT CASE [count_results.py args...]: the counter's last line.
expect() {
  local want=$1 case=$2; shift 2
  local got
  # The counter reads CI; each case says its own (the suite may run in CI).
  got=$(CI=${EXPECT_CI:-false} python3 tests/count_results.py --bep "$dir/bep.json" "$@" | tail -n 1)
  if [[ $got == "$want" ]]; then
    passed=$((passed + 1))
  else
    echo "count_results_test: $case: got \"$got\", want \"$want\""
    failed=$((failed + 1))
  fi
}

log pass 3 0 0
log fail 2 1 0
log crash_after_summary 1 0 0
log crashed - 0 0 "Segmentation fault"
log skip 2 0 1 "prochook-test: SKIPPED e2e: one: end-to-end prerequisite missing: runc is not installed"
log stale 5 0 0  # left by an earlier run: this run has no result for it
{
  result pass PASSED
  result fail FAILED
  result crash_after_summary FAILED
  result crashed FAILED
  result skip PASSED
  result cached PASSED ',"cachedLocally":true'
  echo '{"id":{"targetCompleted":{"label":"//t:broken"}},"completed":{"failureDetail":{"message":"compile error"}}}'
  echo '{"id":{"testResult":{"label":"//t:trunc'  # Bazel killed mid-write
} >"$dir/bep.json"
log cached 4 0 0

expect "3 0 0" "a passing target" //t:pass
expect "2 1 0" "a failing target" //t:fail
expect "1 1 0" "a target that failed after a summary of 0 failed" //t:crash_after_summary
expect "0 1 0" "a target that crashed before its summary" //t:crashed
expect "1 0 2" "a skipped case is not a pass (doctest's and the harness's)" //t:skip
EXPECT_CI=true expect "1 2 0" "in CI a skip is a failure" //t:skip
expect "0 1 0" "a stale test.log from an earlier run" //t:stale
expect "0 1 0" "a target that did not build" //t:broken
expect "0 1 0" "a truncated event" //t:trunc
expect "4 0 0" "a cached unit test counts" //t:cached
expect "0 1 0" "a cached end-to-end test does not" --uncacheable //t:cached //t:cached
expect "0 1 0" "no targets at all"
expect "7 2 2" "all together" //t:pass //t:fail //t:crash_after_summary //t:skip
: >"$dir/bep.json"
expect "0 1 0" "an empty event file (bazel did not start)" //t:pass

echo "$passed $failed 0"
