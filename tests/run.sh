#!/bin/bash
# Runs every prochook test (unit and end to end) and prints a closing line
# "N passed, N failed" counting test cases. End-to-end tests need root; in CI
# (CI=true) a missing prerequisite is a failure, elsewhere they skip and say why.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

bazel test //... --test_timeout=900
bazel_rc=$?

passed=0 failed=0
for target in $(bazel query 'tests(//...)' 2>/dev/null); do
  pkg=${target#//}; pkg=${pkg%%:*}; name=${target##*:}
  log="bazel-testlogs/$pkg/$name/test.log"
  line=$(grep -a '^\[doctest\] test cases:' "$log" 2>/dev/null | tail -1)
  if [[ $line =~ \|[[:space:]]*([0-9]+)\ passed[[:space:]]*\|[[:space:]]*([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    grep -a 'SKIPPED end-to-end' "$log" | sort -u | sed "s|^|$target: |"
  else
    echo "$target: no test summary (did not build or crashed)" >&2
    failed=$((failed + 1))
  fi
done
if ((bazel_rc != 0 && failed == 0)); then failed=1; fi
echo "$passed passed, $failed failed"
((failed == 0))
