#!/bin/bash
# prochook demo: a runc container limited to 256 MiB, without and with
# prochook. Builds prochook, needs root, downloads no image (the rootfs is an
# empty tree with the host's /usr bound read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "demo: run as root (it starts runc containers)" >&2; exit 1; }
bash tools/deps.sh

echo "== building prochook"
bazel build -c opt //:prochook 2>&1 | tail -1
work=$(mktemp -d /tmp/prochook-demo-XXXXXX)
install -m 0755 bazel-bin/prochook "$work/prochook"
cleanup() {
  for id in demo-plain-$$ demo-prochook-$$; do
    runc --root "$work/runc" delete --force "$id" >/dev/null 2>&1 || true
  done
  rmdir /sys/fs/cgroup/*/prochook-demo-$$ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# bundle NAME HOOKS_JSON: a bundle whose container prints what tools see.
bundle() {
  local dir=$work/$1
  mkdir -p "$dir/rootfs"/{proc,sys,dev,tmp,etc,usr,root}
  for l in bin lib lib64 sbin; do ln -s "usr/$l" "$dir/rootfs/$l"; done
  runc spec --bundle "$dir"
  /usr/bin/python3 - "$dir/config.json" "$2" "$1" "$$" <<'PY'
import json, sys
SHOW = """free -m; echo
echo "CPUs: cpuinfo $(grep -c ^processor /proc/cpuinfo), /proc/stat $(grep -c '^cpu[0-9]' /proc/stat),\
 online $(cat /sys/devices/system/cpu/online), python $(python3 -c 'import os; print(os.cpu_count())')"
echo; head -n 3 /proc/stat; echo "loadavg: $(cat /proc/loadavg)"; echo; cat /proc/swaps"""
path, hooks, name, pid = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
c = json.load(open(path))
c["process"].update(terminal=False, env=["PATH=/usr/bin:/bin", "HOME=/root"],
                    args=["sh", "-c", SHOW])
c["root"] = {"path": "rootfs", "readonly": True}
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                    "options": ["rbind", "ro"]})
c["linux"]["cgroupsPath"] = f"/prochook-demo-{pid}/{name}-{pid}"
c["linux"]["resources"]["memory"] = {"limit": 256 << 20}
c["linux"]["resources"]["cpu"] = {"quota": 100000, "period": 100000}  # one CPU
if hooks:
    c["hooks"] = hooks
json.dump(c, open(path, "w"), indent=2)
PY
}

hook="{\"path\": \"$work/prochook\", \"args\": [\"prochook\", \"hook\"]}"
bundle demo-plain '{}'
bundle demo-prochook "{\"createRuntime\": [$hook], \"poststop\": [$hook]}"

echo
echo "== runc container limited to 256 MiB and 1 CPU, WITHOUT prochook (the host's memory and CPUs):"
runc --root "$work/runc" run --bundle "$work/demo-plain" "demo-plain-$$" </dev/null
echo
echo "== the same container WITH prochook (hooks createRuntime + poststop):"
runc --root "$work/runc" run --bundle "$work/demo-prochook" "demo-prochook-$$" </dev/null
