#!/bin/bash
# The cgroup v2 lane: runs end-to-end test binaries inside a qemu guest
# (TCG) that boots Debian 12's own kernel with cgroup2 only, real runc,
# crun, podman, Docker and containerd, and prints each test's output and, last,
# "vm: N passed, N failed" (doctest test cases). A guest that overruns its
# deadline is killed and every test it did not finish counts as failed.
# Usage: tests/vm/run.sh [TEST[:RUNTIME]...]   (default: the lane's tests
# below; TEST:crun runs the binary TEST with crun as its containers' runtime)
#        tests/vm/run.sh --script FILE   (runs FILE in the guest as root,
# prochook at /prochook/prochook, and prints what it printed)
set -uo pipefail
script=""
if [[ ${1:-} == --script ]]; then
  script=$(realpath "${2:?--script needs a file}")
  shift 2
fi
cd "$(dirname "$0")/../.."
out=${PROCHOOK_VM_DIR:-/var/tmp/prochook-vm}
deadline=${PROCHOOK_VM_DEADLINE:-2700}  # seconds for the whole guest
tests=("$@")
((${#tests[@]})) || [[ -n $script ]] ||
  tests=(runc_test cgroup2_test cgroup2_test:crun tools_test blockstat_test faults_test conditions_test engines_test sysinfo_test timens_test vmstat_test freshness_test)

fail() { echo "vm: $*" >&2; echo "vm: 0 passed, ${#tests[@]} failed"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86 is not installed"
# Test binaries linked whole (the guest has no Bazel runfiles tree).
binaries=($(printf '%s\n' "${tests[@]%%:*}" | sort -u))
# What the tests find beside them (their Bazel data), by the same path.
data=(tests/e2e/sysinfo_caller)
targets=(//:prochook)
for d in "${data[@]}"; do targets+=("//${d%/*}:${d##*/}"); done
for b in "${binaries[@]}"; do targets+=("//tests/e2e:$b"); done
bazel build --dynamic_mode=off "${targets[@]}" >/dev/null 2>&1 || fail "bazel build failed"
bash tests/vm/build.sh "$out" || fail "building the guest failed"

# The payload disk: prochook, the guest's init and the tests.
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
install -m 0755 bazel-bin/prochook tests/vm/guest-init.sh "$payload/"
for b in "${binaries[@]}"; do install -m 0755 "bazel-bin/tests/e2e/$b" "$payload/"; done
for d in "${data[@]}"; do install -D -m 0755 "bazel-bin/$d" "$payload/$d"; done
[[ -z $script ]] || install -m 0755 "$script" "$payload/script.sh"
# Cases left out in the guest, with why (patterns without commas: doctest
# splits its filters at commas). runc_test's times the renderer's
# wakeups against wall-clock bounds that software emulation (TCG) cannot
# meet. conditions_test's first three are about v1 hierarchies (one
# controller's cgroup removed or never made while the others stay); their
# v2 counterpart, a controller disabled above the container, is in
# cgroup2_test. The fourth is v1 blkio accounting (v2's io.stat counts
# without it). All of them run on the host with every other case.
cat > "$payload/excludes" <<'EXCLUDES'
runc_test *tight loop does not make the renderer wake*
conditions_test *a controller's cgroup removed under a running container*
conditions_test *then made again with the container moved back*
conditions_test *a container started without a blkio cgroup*
conditions_test *a disk no cgroup ever throttled*
EXCLUDES
rm -f "$out/payload.img"
mke2fs -q -t ext4 -d "$payload" "$out/payload.img" 512M || fail "making the payload disk failed"

console=$out/console.log
list=$(IFS=,; echo "${tests[*]}")
timeout --kill-after=10 "$deadline" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 \
  -nographic -no-reboot -nic none \
  -kernel "$(ls "$out"/kernel/boot/vmlinuz-*)" -initrd "$out/initramfs.gz" \
  -append "console=ttyS0 quiet rdinit=/init panic=-1 prochook.tests=$list" \
  -drive "file=$out/root.img,format=raw,if=virtio,snapshot=on" \
  -drive "file=$out/payload.img,format=raw,if=virtio" >"$console" 2>&1
rc=$?
((rc == 124 || rc == 137)) && echo "vm: the guest overran its ${deadline} s deadline and was killed" >&2

if [[ -n $script ]]; then
  tr -d '\r' < "$console" | sed -n '/^PROCHOOK-VM-BEGIN script$/,/^PROCHOOK-VM-END script /p' | sed '1d;$d'
  tr -d '\r' < "$console" | grep -q '^PROCHOOK-VM-END script 0$'
  exit
fi

# Each test's output sits between PROCHOOK-VM-BEGIN and -END <exit code>.
passed=0 failed=0
for t in "${tests[@]}"; do
  section=$(tr -d '\r' < "$console" | sed -n "/^PROCHOOK-VM-BEGIN $t\$/,/^PROCHOOK-VM-END $t /p")
  echo "$section" | sed "s|^|vm $t: |"
  end=$(echo "$section" | sed -n "s/^PROCHOOK-VM-END $t \([0-9]*\)$/\1/p")
  line=$(echo "$section" | grep -a '^\[doctest\] test cases:' | tail -1)
  if [[ -n $end && $line =~ \|[[:space:]]*([0-9]+)\ passed[[:space:]]*\|[[:space:]]*([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    ((end != 0 && BASH_REMATCH[2] == 0)) && failed=$((failed + 1))
  else
    echo "vm $t: did not finish (see $console)" >&2
    failed=$((failed + 1))
  fi
done
echo "vm: $passed passed, $failed failed"
((failed == 0))
