"""Costs a container controls (bench/driver.py sections `loadcost` and
`repaircost`; run just these with `bash bench/run.sh --only loadcost,repaircost`).

  loadcost:   renderer CPU (utime+stime over 10 s) while a loop in the
              container reads /proc/loadavg every 0.2 s, with 1, 1,000 and
              20,000 idle threads in the container.
  repaircost: the hook's repair phase and `runc run` of `true` (with and
              without prochook, alternating) with 0, 100 and 500 containers
              already served, and what one full repair walk
              (`prochook repair`, which every hook did before the bound) costs.

Both use a run directory of their own (`--run-dir`), so containers that other
programs on the host serve from /run/prochook neither count nor are counted.
"""

import json
import os
import re
import statistics
import subprocess
import time

MIB = 1 << 20
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"bench: {msg}", flush=True, file=__import__("sys").stderr)


class RunDir:
    """A private prochook run directory; the hook makes it an XFS store on
    first use (<dir>.img, <dir>.lock), removed by cleanup()."""

    def __init__(self, bench, name):
        self.bench = bench
        self.path = f"/run/prochook-{name}-{os.getpid()}"

    def hook_argv(self):
        return [self.bench.ct.prochook, "hook", "--run-dir", self.path]

    def served(self):
        p = subprocess.run([self.bench.ct.prochook, "ps", "--json", "--run-dir", self.path],
                           capture_output=True, text=True, check=True)
        return {c["id"]: c for c in json.loads(p.stdout)["containers"]}

    def renderer_pid(self, cid):
        return self.served()[cid]["renderer_pid"]

    def cleanup(self):
        deadline = time.time() + 60
        while time.time() < deadline and os.path.isdir(self.path) and any(
                os.path.isdir(os.path.join(self.path, e)) for e in os.listdir(self.path)):
            time.sleep(0.1)
        subprocess.run(["umount", self.path], capture_output=True)
        subprocess.run(["rm", "-rf", self.path, self.path + ".img", self.path + ".lock"])


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def schedstat_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def pids_current(ct, cid):
    with open(f"/sys/fs/cgroup/pids/{ct.cgroup_parent}/{cid}/pids.current") as f:
        return int(f.read())


def loadavg_cost(bench, counts=(1, 1000, 20000), window=10.0):
    log("loadcost: renderer CPU while /proc/loadavg is read, by thread count")
    ct = bench.ct
    rd = RunDir(bench, "loadcost")
    result = {}
    try:
        for n in counts:
            cid = f"bench-load-{n}-{os.getpid()}"
            b = ct.bundle(cid, ["/bench/idle_threads", str(n - 1)], mounts=bench.bench_mounts(),
                          memory=4096 * MIB, hook_argv=rd.hook_argv())
            ct.start(cid, b)
            try:
                deadline = time.time() + 120
                while pids_current(ct, cid) < n:
                    if time.time() > deadline:
                        raise RuntimeError(f"{cid}: {pids_current(ct, cid)} of {n} threads after 120 s")
                    time.sleep(0.2)
                subprocess.run(ct.runc("exec", "-d", cid, "sh", "-c",
                                       "while :; do cat /proc/loadavg > /dev/null; sleep 0.2; done"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
                time.sleep(3)  # the read wakes the renderer from idle mode
                pid = rd.renderer_pid(cid)
                t0, s0, w0 = cpu_ticks(pid), schedstat_ns(pid), time.monotonic()
                time.sleep(window)
                t1, s1, w1 = cpu_ticks(pid), schedstat_ns(pid), time.monotonic()
                seen = ct.exec(cid, "cat", "/proc/loadavg").strip()
                result[str(n)] = {
                    "threads": pids_current(ct, cid),
                    "renderer_ticks_per_10s": (t1 - t0) * 10.0 / (w1 - w0),
                    "renderer_cpu_ms_per_s": (s1 - s0) / 1e6 / (w1 - w0),
                    "loadavg_in_container": seen, "window_s": round(w1 - w0, 1)}
                log(f"loadcost: {n} threads: {result[str(n)]}")
            finally:
                ct.delete(cid)
    finally:
        rd.cleanup()
    bench.report["loadavg_cost"] = result


HOOK_TIMING = re.compile(r"prochook hook (\S+)\[(\d+)\] debug: timing: (.+?) took (\d+) us")


def hook_timings(run_dir, ids):
    """The createRuntime invocation's phase timings (us) of each container in
    ids, from hook.log: by container, its first invocation's lines."""
    first_pid, out = {}, {}
    with open(os.path.join(run_dir, "hook.log")) as f:
        for line in f:
            m = HOOK_TIMING.search(line)
            if not m or m.group(1) not in ids:
                continue
            cid, pid, phase, us = m.group(1), m.group(2), m.group(3), int(m.group(4))
            if first_pid.setdefault(cid, pid) == pid:
                out.setdefault(cid, {})[phase] = us
    return out


def repair_cost(bench, served_counts=(0, 100, 500), starts=20):
    log("repaircost: the hook's repair phase and runc run, by containers served")
    ct = bench.ct
    rd = RunDir(bench, "repaircost")
    running = []
    result = {}
    try:
        probe = ct.bundle("repaircost-probe", ["true"], hook_argv=rd.hook_argv(),
                          hook_env=["PROCHOOK_LOG_LEVEL=debug"])
        plain = ct.bundle("repaircost-plain", ["true"], hook=False)
        for served in served_counts:
            log(f"repaircost: starting containers up to {served} served")
            while len(running) < served:
                cid = f"bench-served-{len(running)}-{os.getpid()}"
                ct.start(cid, ct.bundle(cid, ["sleep", "100000"], memory=64 * MIB,
                                        hook_argv=rd.hook_argv()))
                running.append(cid)
            if served:
                assert len(rd.served()) >= served
            walls, plain_walls, ids = [], [], []
            for i in range(-3, starts):  # three warm-up runs; with and without prochook alternating
                t = time.perf_counter()
                ct.run_foreground(f"bench-plain-{served}-{i + 3}-{os.getpid()}", plain)
                plain_ms = (time.perf_counter() - t) * 1e3
                cid = f"bench-probe-{served}-{i + 3}-{os.getpid()}"
                t = time.perf_counter()
                ct.run_foreground(cid, probe)
                if i >= 0:
                    walls.append((time.perf_counter() - t) * 1e3)
                    plain_walls.append(plain_ms)
                    ids.append(cid)
            timings = hook_timings(rd.path, set(ids))
            phases = {}
            for t in timings.values():
                for phase, us in t.items():
                    phases.setdefault(phase, []).append(us)
            repair_us = phases.get("repair", [])
            full = []
            for _ in range(5):
                t = time.perf_counter()
                subprocess.run([ct.prochook, "repair", "--run-dir", rd.path], capture_output=True)
                full.append((time.perf_counter() - t) * 1e3)
            result[str(served)] = {"runc_run_ms": summarize(walls), "plain_runc_run_ms": summarize(plain_walls),
                                   "added_ms": statistics.median(walls) - statistics.median(plain_walls),
                                   "hook_repair_us": summarize(repair_us),
                                   "hook_phases_us": {p: summarize(v) for p, v in phases.items()},
                                   "full_repair_walk_ms": summarize(full), "starts": len(walls)}
            log(f"repaircost: {served} served: {result[str(served)]}")
    finally:
        for cid in running:
            ct.delete(cid)
        rd.cleanup()
    bench.report["repair_cost"] = result


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def markdown(r):
    out = []
    if "loadavg_cost" in r:
        out.append("## Loadavg sampling: renderer CPU by the container's thread count\n")
        out.append("A loop in the container reads /proc/loadavg every 0.2 s (so the renderer refreshes every "
                   "1 s interval); the other threads sleep. The renderer reads at most 256 task stat files a "
                   "refresh (renderer/tasks.h). Before the bound (the review, issue 14): 1 tick per 10 s at one "
                   "thread, 998 (a whole core) at 20,000.\n")
        out.append("| threads | pids.current (with the read loop) | renderer utime+stime, ticks per 10 s | "
                   "renderer CPU ms per s | /proc/loadavg in the container |")
        out.append("|---|---|---|---|---|")
        for n, c in r["loadavg_cost"].items():
            out.append(f"| {int(n):,} | {c['threads']:,} | {c['renderer_ticks_per_10s']:.0f} | "
                       f"{c['renderer_cpu_ms_per_s']:.2f} | `{c['loadavg_in_container']}` |")
        out.append("")
    if "repair_cost" in r:
        out.append("## Start overhead and repair on the start path: by containers already served\n")
        out.append("`runc run` of `true` with prochook's hooks (PROCHOOK_LOG_LEVEL=debug), the createRuntime "
                   "hook's repair phase from hook.log, and one full repair walk (`prochook repair`, process "
                   "start included): what every hook invocation did before the bound.\n")
        out.append("| served | runc run ms | without prochook ms | added ms | hook repair phase us | "
                   "whole createRuntime hook us (setup + repair) | full repair walk ms |")
        out.append("|---|---|---|---|---|---|---|")
        for n, c in r["repair_cost"].items():
            f = lambda s, d=1: f"{s['median']:.{d}f} ({s['min']:.{d}f}-{s['max']:.{d}f})"
            ph = c.get("hook_phases_us", {})
            whole = (f"{ph['hook']['median'] + ph['repair']['median']:.0f}"
                     if "hook" in ph and "repair" in ph else "-")
            out.append(f"| {n} | {f(c['runc_run_ms'])} | {f(c['plain_runc_run_ms'])} | {c['added_ms']:.1f} | "
                       f"{f(c['hook_repair_us'], 0)} | {whole} | {f(c['full_repair_walk_ms'])} |")
        out.append("\nMedian (min-max). The hook's repair looks at two state directories whatever the number "
                   "served (none at 0: only the starting container's own, which it skips).\n")
        out.append("")
    return out
