#!/bin/bash
# Installs what prochook needs to build, test and demo on Debian 12 (as root).
# Idempotent: apt-get skips packages that are already installed.
set -euo pipefail
packages=(
  bazel-bootstrap bazel-rules-java g++            # build
  protobuf-compiler libprotobuf-dev                # nri/ (the NRI plugin's messages)
  nlohmann-json3-dev doctest-dev libseccomp-dev    # libraries
  libbenchmark-dev                                 # bench/ (Google Benchmark)
  libboost-dev libboost-filesystem-dev
  xfsprogs                                         # the tear-free store
  lintian man-db                                   # packaging/ (deb_test)
  runc crun busybox-static procps python3 python3-psutil util-linux coreutils  # e2e
  podman docker.io containerd tar                  # engines e2e (dockerd runs with --bridge=none)
  python3-kubernetes python3-yaml                  # deploy/kubernetes manifests checked against the API schema
  clang-14 libclang-rt-14-dev                      # fuzzing (libFuzzer)
  sysstat htop tmux nodejs                         # tools read inside containers
  qemu-system-x86                                  # the cgroup v2 lane (tests/vm/)
  "$@"
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "prochook: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
