#!/bin/bash
# Builds one libFuzzer target per parser with clang-14 (ASan + UBSan) and
# runs each for FUZZ_SECONDS (default 15) from its checked-in corpus
# (tests/fuzz/corpus/<target>/). Prints one line per target and, last,
# "fuzz: N passed, N failed, N skipped" (nothing is ever skipped: a target
# passes only when it built and ran inputs in this run). A crash leaves its
# input in tests/fuzz/out/.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-15}
CXX=${CXX:-clang++-14}
out=tests/fuzz/out
build=$out/build
mkdir -p "$build"
flags=(-std=c++20 -O1 -g -D_GNU_SOURCE -I. -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined)
sources=(common/io.cc common/log.cc common/text.cc
         oci/json.cc oci/state.cc oci/config.cc oci/options.cc oci/config_edit.cc oci/engine_config.cc
         hook/cgroups.cc common/mountinfo.cc common/proc.cc common/timens.cc
         state/record.cc state/state_dir.cc
         renderer/meminfo.cc renderer/memory.cc renderer/cpu_view.cc renderer/cpuinfo.cc
         renderer/cpu_usage.cc renderer/stat.cc renderer/uptime.cc renderer/tasks.cc
         renderer/diskstats.cc renderer/swaps.cc renderer/pressure.cc renderer/vmstat.cc
         oci/seccomp_edit.cc agent/answer.cc agent/handoff.cc agent/fd_passing.cc
         nri/frame.cc)
objects=()
for src in "${sources[@]}"; do
  obj=$build/$(echo "$src" | tr / _).o
  if [[ ! -f $obj || $src -nt $obj ]]; then
    "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || { echo "fuzz: building $src failed"; echo "fuzz: 0 passed, 1 failed, 0 skipped"; exit 1; }
  fi
  objects+=("$obj")
done

passed=0 failed=0
for dir in tests/fuzz/corpus/*/; do
  name=$(basename "$dir")
  define=FUZZ_$(echo "$name" | tr a-z A-Z)
  bin=$build/fuzz_$name
  rm -f "$bin" "$out/$name.log"  # nothing of an earlier run counts
  if ! "$CXX" "${flags[@]}" -fsanitize=fuzzer -D"$define" tests/fuzz/targets.cc "${objects[@]}" -o "$bin"; then
    echo "fuzz $name: build failed"; failed=$((failed + 1)); continue
  fi
  work=$(mktemp -d)
  if "$bin" "$work" "$dir" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$out/$name-" >"$out/$name.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$out/$name.log" | grep -o '[0-9]*')
    if ((${runs:-0} > 0)); then
      echo "fuzz $name: ok, $runs runs in ${seconds}s"
      passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED, exited 0 without running any input (see $out/$name.log)"
      failed=$((failed + 1))
    fi
  else
    echo "fuzz $name: FAILED (see $out/$name.log)"; tail -n 30 "$out/$name.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
if ((passed + failed == 0)); then
  echo "fuzz: no fuzz target found under tests/fuzz/corpus"
  failed=1
fi
echo "fuzz: $passed passed, $failed failed, 0 skipped"
((failed == 0))
