#!/bin/bash
# The guest's pid 1 (tests/vm/build.sh puts it at /prochook/guest-init.sh):
# a cgroup-v2-only system, then every test binary named on the kernel
# command line (prochook.tests=a,b) run from /prochook with CI=true, each
# output framed on the serial console for tests/vm/run.sh, then power off.
# Nothing here may hang the lane: run.sh kills a guest that overruns.
# A UTF-8 locale (C.UTF-8, /usr/lib/locale on the root disk): tmux refuses
# to start without.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -o remount,rw /
hostname prochook-vm
# Swap, so memory.swap.* and /proc/swaps have something to show.
fallocate -l 256M /swapfile && chmod 600 /swapfile && mkswap -q /swapfile >/dev/null && swapon /swapfile
ip link set lo up 2>/dev/null
# Every controller a container may be limited by, delegated from the root.
echo "+cpu +cpuset +memory +io +pids" > /sys/fs/cgroup/cgroup.subtree_control
# prochook's own cgroup must not hold pid 1 (no internal processes below
# the root with controllers enabled): pid 1 moves to a leaf.
mkdir -p /sys/fs/cgroup/init.scope && echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs

echo "PROCHOOK-VM: booted $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup)"
cd /prochook
tests=$(sed -n 's/.*prochook\.tests=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
for t in $tests; do
  echo "PROCHOOK-VM-BEGIN $t"
  binary=${t%%:*} runtime=runc
  [[ $t == *:* ]] && runtime=${t#*:}
  exclude=$(awk -v t="$binary" '$1 == t { $1 = ""; sub(/^ /, ""); print }' excludes | paste -sd,)
  # One test that hangs must not take the others' time: a deadline each.
  PROCHOOK_E2E_RUNTIME=$runtime timeout -k 5 "${PROCHOOK_TEST_DEADLINE:-900}" \
    ./"$binary" --no-colors=true --test-case-exclude="$exclude" 2>&1
  echo "PROCHOOK-VM-END $t $?"
done
if [[ -x script.sh ]]; then
  echo "PROCHOOK-VM-BEGIN script"
  timeout -k 5 "${PROCHOOK_TEST_DEADLINE:-900}" ./script.sh 2>&1
  echo "PROCHOOK-VM-END script $?"
fi
echo "PROCHOOK-VM: done"
sync
echo o > /proc/sysrq-trigger
sleep 10
