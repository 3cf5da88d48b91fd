#!/bin/bash
# prochook's benchmarks in one command (as root, on Debian 12): builds
# prochook and the benchmark binaries, then bench/driver.py starts real runc
# containers and LXCFS side by side and writes bench/results/report.md and
# report.json. Arguments go to driver.py (e.g. --scale 100 --window 10;
# --help lists them). Takes about 15 minutes with the defaults; one part
# alone: e.g. --only loadcost,repaircost --out /tmp/costs.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench: run as root (it starts runc containers and LXCFS)" >&2; exit 1; }
bash tools/deps.sh lxcfs
bazel build -c opt //:prochook //bench:read_bench //bench:renderers_bench //bench:idle_threads \
  //tests/e2e:sysinfo_caller 2>&1 | tail -1
exec /usr/bin/python3 bench/driver.py \
  --prochook bazel-bin/prochook \
  --read-bench bazel-bin/bench/read_bench \
  --renderers-bench bazel-bin/bench/renderers_bench \
  --idle-threads bazel-bin/bench/idle_threads \
  --sysinfo-caller bazel-bin/tests/e2e/sysinfo_caller \
  --out bench/results "$@"
