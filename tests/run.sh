#!/bin/bash
# Runs every prochook test (unit and end to end, the unit tests again under
# ASan+UBSan, the fuzz targets for a bounded time) and prints a closing line
# "N passed, N failed" counting test cases. End-to-end tests need root; in CI
# (CI=true) a missing prerequisite is a failure, elsewhere they skip and say why.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

# Sums the doctest summaries of the given test targets into passed/failed;
# a target without a summary (did not build, crashed) counts as one failure.
passed=0 failed=0
count() {
  local label=$1; shift
  for target in "$@"; do
    pkg=${target#//}; pkg=${pkg%%:*}; name=${target##*:}
    log="bazel-testlogs/$pkg/$name/test.log"
    line=$(grep -a '^\[doctest\] test cases:' "$log" 2>/dev/null | tail -1)
    if [[ $line =~ \|[[:space:]]*([0-9]+)\ passed[[:space:]]*\|[[:space:]]*([0-9]+)\ failed ]]; then
      passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
      grep -a 'SKIPPED' "$log" | sort -u | sed "s|^|$label$target: |"
    else
      echo "$label$target: no test summary (did not build or crashed)" >&2
      failed=$((failed + 1))
    fi
  done
}

# 1. Everything: unit tests and end to end with real runtimes.
bazel test //... --test_timeout=1800
rc=$?
count "" $(bazel query 'tests(//...)' 2>/dev/null)
if ((rc != 0 && failed == 0)); then failed=1; fi

# 2. The unit tests again under ASan + UBSan.
unit=$(bazel query 'tests(//tests:all)' 2>/dev/null)
bazel test --config=sanitize $unit --test_timeout=900
rc=$?
before=$failed
count "asan+ubsan " $unit
if ((rc != 0 && failed == before)); then failed=$((failed + 1)); fi

# 3. Every parser fuzzed for a bounded time (one test per fuzz target).
fuzz=$(FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash tests/fuzz/run.sh 2>&1)
echo "$fuzz" | grep -v '^fuzz: [0-9]* passed'
if [[ $(echo "$fuzz" | tail -1) =~ ^fuzz:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
((failed == 0))
