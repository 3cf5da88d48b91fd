#!/bin/bash
# Run in the VM lane's guest (tests/vm/run.sh --script this-file): starts a
# prochook-served runc container limited to 256 MiB, swap 128 MiB and a
# quota of one CPU, makes it use memory, swap room, disk and CPU, then
# prints a base64 tar of the files the kernel wrote for it: its cgroup's
# controller files, the guest's /proc files the renderer reads, and the
# /proc entries of its tasks. tests/testdata/v2-guest/ was made this way:
#   tests/vm/run.sh --script tests/vm/capture-v2-fixture.sh | sed -n \
#     '/^FIXTURE-BEGIN$/,/^FIXTURE-END$/p' | sed '1d;$d' | base64 -d | tar -x -C tests/testdata/v2-guest
set -euo pipefail
b=/tmp/fixture
mkdir -p "$b/rootfs" /mnt/fixture-data
cd "$b/rootfs"
mkdir -p proc sys dev tmp etc usr run root data
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$l"; done
echo 'root:x:0:0:root:/root:/bin/sh' > etc/passwd
cd "$b"
runc spec
python3 - <<'PY'
import json
c = json.load(open('config.json'))
c['process'].update(terminal=False, args=['sleep', '100000'],
                    env=['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'])
c['root'] = {'path': 'rootfs', 'readonly': True}
c['mounts'] += [{'destination': '/usr', 'type': 'bind', 'source': '/usr', 'options': ['rbind', 'ro']},
                {'destination': '/data', 'type': 'bind', 'source': '/mnt/fixture-data', 'options': ['rbind']}]
c['linux']['resources'] = {'memory': {'limit': 268435456, 'swap': 268435456 + 134217728},
                           'cpu': {'quota': 100000, 'period': 100000}}
c['linux']['cgroupsPath'] = '/fixture/ct'
hook = {'path': '/prochook/prochook', 'args': ['prochook', 'hook']}
c['hooks'] = {'createRuntime': [hook], 'poststop': [hook]}
json.dump(c, open('config.json', 'w'))
PY
runc run -d ct </dev/null >/dev/null
runc exec ct dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>/dev/null
runc exec ct dd if=/dev/zero of=/data/f bs=1M count=8 oflag=direct 2>/dev/null
runc exec ct dd if=/data/f of=/dev/null bs=1M iflag=direct 2>/dev/null
runc exec ct sh -c '(while :; do :; done) </dev/null >/dev/null 2>&1 &'
sleep 3
cg=/sys/fs/cgroup/fixture/ct
list=$(mktemp)
for f in cgroup.threads cgroup.procs cpu.max cpu.stat cpuset.cpus.effective memory.max memory.current \
         memory.stat memory.swap.max memory.swap.current io.stat pids.current \
         cpu.pressure memory.pressure io.pressure; do
  echo "${cg#/}/$f" >> "$list"
done
echo sys/fs/cgroup/fixture/memory.max >> "$list"
for f in meminfo stat cpuinfo diskstats swaps uptime loadavg vmstat pressure/cpu pressure/memory pressure/io; do
  echo "proc/$f" >> "$list"
done
echo sys/devices/system/cpu/online >> "$list"
for tid in $(cat "$cg/cgroup.threads"); do
  echo "proc/$tid/stat" >> "$list"
  echo "proc/$tid/task/$tid/stat" >> "$list"
  echo "proc/$tid/task/$tid/status" >> "$list"
done
# Snapshot: procfs and cgroupfs files report size 0, which tar would take
# at its word; copies have their real sizes.
snap=$(mktemp -d)
while read -r f; do mkdir -p "$snap/$(dirname "$f")"; cat "/$f" > "$snap/$f"; done < "$list"
echo FIXTURE-BEGIN
tar -C "$snap" -c . | base64
echo FIXTURE-END
runc kill ct KILL
sleep 1
runc delete -f ct
