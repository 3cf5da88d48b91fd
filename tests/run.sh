#!/bin/bash
# Runs every prochook test (unit and end to end, the unit tests again under
# ASan+UBSan, the fuzz targets for a bounded time) and prints, as its last
# line, "N passed, N failed, N skipped" counting the test cases that ran in
# this run (tests/count_results.py says how). End-to-end tests need root; in
# CI (CI=true) a missing prerequisite, and any skip, is a failure; elsewhere
# they skip and say why.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

passed=0 failed=0 skipped=0
# Adds "P F S" (the last line of a counter's output) to the totals and
# prints the counter's notes; a counter without that line is one failure.
add() {
  local out=$1 last
  last=$(tail -n 1 <<<"$out")
  sed '$d' <<<"$out"
  if [[ $last =~ ^([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
    passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2])) skipped=$((skipped + BASH_REMATCH[3]))
  else
    echo "$out" >&2
    failed=$((failed + 1))
  fi
}

# Runs `bazel test` on targets with its build event file fresh for this run,
# then counts what it ran; a non-zero exit that the counts do not show is
# one more failure. label prefixes the notes.
bep=$(mktemp /tmp/prochook-bep-XXXXXX.json)
trap 'rm -f "$bep"' EXIT
run_and_count() {
  local label=$1; shift
  local -a targets=($1); shift
  : >"$bep"
  bazel test "${targets[@]}" --build_event_json_file="$bep" --keep_going "$@"
  local rc=$? before=$failed
  local -a must_run=()
  for t in $uncacheable; do must_run+=(--uncacheable "$t"); done
  add "$(python3 tests/count_results.py --bep "$bep" --label "$label" "${must_run[@]}" "${targets[@]}")"
  if ((rc != 0 && failed == before)); then
    echo "${label}bazel test exited $rc with no failed case counted" >&2
    failed=$((failed + 1))
  fi
}

# 0. The counting itself, against fake build event files and logs.
add "$(bash tests/count_results_test.sh)"
# README's performance figures are the committed bench report's.
add "$(python3 tests/readme_figures_test.py)"

# 1. Everything: unit tests and end to end with real runtimes. Tests tagged
# "external" depend on the host and are never served from Bazel's cache.
uncacheable=$(bazel query 'attr(tags, external, tests(//...))' 2>/dev/null)
# Manual tests are not this host's (cgroup2_test runs in tests/vm/run.sh).
run_and_count "" "$(bazel query 'tests(//...) except attr(tags, manual, //...)' 2>/dev/null)" --test_timeout=1800

# 2. The unit tests again under ASan + UBSan.
run_and_count "asan+ubsan " "$(bazel query 'tests(//tests:all)' 2>/dev/null)" --config=sanitize --test_timeout=900

# 3. Every parser fuzzed for a bounded time (one test per fuzz target).
fuzz=$(FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash tests/fuzz/run.sh 2>&1)
grep -v '^fuzz: [0-9]* passed' <<<"$fuzz"
if [[ $(tail -n 1 <<<"$fuzz") =~ ^fuzz:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
  add "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
else
  echo "fuzz: no closing count line" >&2
  failed=$((failed + 1))
fi

# 4. The cgroup v2 lane: end-to-end tests in a guest that boots Debian 12's
# own kernel with cgroup2 only (tests/vm/run.sh; its console in the log).
vm_log=$(mktemp /tmp/prochook-vm-XXXXXX.log)
bash tests/vm/run.sh >"$vm_log" 2>&1
grep -a -E 'ERROR|FATAL|did not finish|overran|failed$|^vm: ' "$vm_log" | grep -v '^vm: [0-9]* passed'
if [[ $(tail -n 1 "$vm_log") =~ ^vm:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  add "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} 0"
else
  tail -n 40 "$vm_log"
  echo "vm: no closing count line" >&2
  failed=$((failed + 1))
fi
rm -f "$vm_log"

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
