#!/bin/bash
# The cgroup v2 lane: runs end-to-end test binaries inside a qemu guest
# (TCG) that boots Debian 12's own kernel with cgroup2 only, real runc,
# crun and podman, and prints each test's output and, last,
# "vm: N passed, N failed" (doctest test cases). A guest that overruns its
# deadline is killed and every test it did not finish counts as failed.
# Usage: tests/vm/run.sh [TEST...]   (default: the lane's tests below)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${PROCHOOK_VM_DIR:-/var/tmp/prochook-vm}
deadline=${PROCHOOK_VM_DEADLINE:-1500}  # seconds for the whole guest
tests=("$@")
((${#tests[@]})) || tests=(runc_test cgroup2_test)

fail() { echo "vm: $*" >&2; echo "vm: 0 passed, ${#tests[@]} failed"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86 is not installed"
# Test binaries linked whole (the guest has no Bazel runfiles tree).
targets=(//:prochook)
for t in "${tests[@]}"; do targets+=("//tests/e2e:$t"); done
bazel build --dynamic_mode=off "${targets[@]}" >/dev/null 2>&1 || fail "bazel build failed"
bash tests/vm/build.sh "$out" || fail "building the guest failed"

# The payload disk: prochook, the guest's init and the tests.
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
install -m 0755 bazel-bin/prochook tests/vm/guest-init.sh "$payload/"
for t in "${tests[@]}"; do install -m 0755 "bazel-bin/tests/e2e/$t" "$payload/"; done
# Cases left out in the guest, with why: they time the renderer's wakeups
# against wall-clock bounds that software emulation (TCG) cannot meet.
# They run on the host with every other case.
cat > "$payload/excludes" <<'EXCLUDES'
runc_test *tight loop does not make the renderer wake*
EXCLUDES
rm -f "$out/payload.img"
mke2fs -q -t ext4 -d "$payload" "$out/payload.img" 256M || fail "making the payload disk failed"

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
