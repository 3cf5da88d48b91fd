"""sysinfo(2) in wrapper mode (bench/driver.py section `sysinfo`; alone:
`bash bench/run.sh --only sysinfo --out bench/results/sysinfo`).

  Latency of one sysinfo(2) call, back to back for 3 s, made by the static
  sysinfo_caller: inside a runc container created through `prochook runtime`
  (the call trapped and answered by the container's agent), inside one with
  io.prochook.sysinfo=off (no trap: the kernel answers), and on the host.
  Then the agent's CPU while the container makes 500 calls a second for 10 s.
"""

import os
import subprocess
import time

from costs import cpu_ticks, log, RunDir

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def caller_stats(out):
    """sysinfo_caller --rate output: calls failed changes elapsed_ms mean_us p99_us max_us totalram."""
    f = out.split()
    return {"calls": int(f[0]), "failed": int(f[1]), "mean_us": float(f[4]), "p99_us": float(f[5]),
            "max_us": float(f[6]), "totalram_mib": int(f[7]) >> 20}


def sysinfo_cost(bench, seconds=3, rate=500, window=10):
    log("sysinfo: call latency with the agent, without it, on the host; agent CPU at 500 calls/s")
    ct = bench.ct
    rd = RunDir(bench, "sysinfo")
    caller = "/bench/sysinfo_caller"
    result = {}
    wrapper = [ct.prochook, "runtime", "--prochook-runtime=runc", "--root", ct.root]
    started = []
    try:
        for label, annotations in [("agent", {}), ("no trap", {"io.prochook.sysinfo": "off"})]:
            cid = f"bench-sysinfo-{len(started)}-{os.getpid()}"
            b = ct.bundle(cid, ["sleep", "100000"], hook=False, mounts=bench.bench_mounts(),
                          annotations=annotations)
            # The wrapper adds the hooks (prochook's default run dir: the
            # agent lives in the container's state directory there).
            env = dict(os.environ, PROCHOOK_RUNTIME="runc")
            subprocess.run(wrapper + ["run", "-d", "--bundle", b, cid], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
            started.append(cid)
            time.sleep(1)
            out = subprocess.run(wrapper + ["exec", cid, caller, "--rate", "0", "--seconds", str(seconds)],
                                 capture_output=True, text=True, check=True).stdout
            result[label] = caller_stats(out)
            log(f"sysinfo: {label}: {result[label]}")
        out = subprocess.run([os.path.join(bench.bin, "sysinfo_caller"), "--rate", "0", "--seconds", str(seconds)],
                             capture_output=True, text=True, check=True).stdout
        result["host (kernel)"] = caller_stats(out)
        # The agent's CPU at a steady rate.
        agent_dir = [d for d in os.listdir("/run/prochook") if d.startswith(started[0] + ".")]
        with open(os.path.join("/run/prochook", agent_dir[0], "agent.pid")) as f:
            agent = int(f.read().split()[0])
        t0 = cpu_ticks(agent)
        out = subprocess.run(wrapper + ["exec", started[0], caller, "--rate", str(rate), "--seconds", str(window)],
                             capture_output=True, text=True, check=True).stdout
        t1 = cpu_ticks(agent)
        steady = caller_stats(out)
        steady.update(rate=rate, window_s=window,
                      agent_cpu_ms=(t1 - t0) * 1000 / TICKS_PER_S,
                      agent_cpu_us_per_call=(t1 - t0) * 1e6 / TICKS_PER_S / max(steady["calls"], 1))
        result["steady"] = steady
        log(f"sysinfo: {rate}/s for {window} s: {steady}")
    finally:
        for cid in started:
            subprocess.run(wrapper + ["delete", "--force", cid], capture_output=True)
        rd.cleanup()
    bench.report["sysinfo_cost"] = result


def markdown(r):
    if "sysinfo_cost" not in r:
        return []
    s = r["sysinfo_cost"]
    out = ["## sysinfo(2) in wrapper mode\n",
           "One call, back to back for 3 s, by a static caller; totalram as the caller got it.\n",
           "| where | mean us | p99 us | max us | calls | totalram MiB |", "|---|---|---|---|---|---|"]
    for label in ["agent", "no trap", "host (kernel)"]:
        c = s[label]
        out.append(f"| {label} | {c['mean_us']:.1f} | {c['p99_us']:.1f} | {c['max_us']:.0f} | {c['calls']} | "
                   f"{c['totalram_mib']} |")
    st = s["steady"]
    out.append(f"\nAt {st['rate']} calls a second for {st['window_s']} s: {st['calls']} calls, {st['failed']} failed, "
               f"mean {st['mean_us']:.0f} us; the agent used {st['agent_cpu_ms']:.0f} ms of CPU "
               f"({st['agent_cpu_us_per_call']:.0f} us a call).\n")
    return out
