"""Freshness of the first read after a quiet spell (bench/driver.py section
`freshness`; alone: `bash bench/run.sh --only freshness --out DIR`).

For the default (the read gate) and for `io.prochook.first-read=periodic`
(no gate: an unread container is refreshed every idle period, 10 s), one
container per quiet spell (15, 60 and 300 s) is read once, left unread, and
read again, and one more per spell through a descriptor kept open (pread at
offset 0, as top, `free -s` and vmstat do). A read's
age is measured in the content itself: /proc/stat's cpu0 line sums to the
ticks since the host booted when it was rendered (idle is the elapsed time
the container's CPU did not use), against the host's uptime read just
before the read. Reads go through the store path on the host, the same
inode the container's mount shows, gated alike, so the figure carries no
`runc exec` delay. Also: how long the gated read was held, and the CPU
(renderer and gate, from schedstat) of the longest spell's container while
nobody read it. FRESHNESS_QUIET_S=15,25,35 shortens a trial run.
"""

import os
import time

QUIET_S = tuple(int(q) for q in os.environ.get("FRESHNESS_QUIET_S", "15,60,300").split(","))
MODES = {"read gate (default)": {}, "periodic (first-read=periodic)": {"io.prochook.first-read": "periodic"}}


def log(msg):
    print(f"bench: {msg}", flush=True, file=__import__("sys").stderr)


def stat_age_s(text, uptime_before):
    for line in text.splitlines():
        if line.startswith("cpu0 "):
            return uptime_before - sum(int(v) for v in line.split()[1:]) / 100.0
    raise RuntimeError("no cpu0 line in a served /proc/stat")


def host_uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def timed_read(read):
    """(age s, held ms) of one read: read() returns /proc/stat's text."""
    up = host_uptime()
    t = time.perf_counter()
    text = read()
    held = (time.perf_counter() - t) * 1e3
    return stat_age_s(text, up), held


def with_gates(renderers):
    """The renderers and their read gates (a renderer's children), from one
    pass over /proc."""
    renderers = set(renderers)
    gates = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) in renderers:
                    gates.append(int(p))
        except OSError:
            continue
    return sorted(renderers) + gates


def freshness(bench):
    from driver import renderer_pid, schedstat_ns, state_dir
    log("freshness: first reads after 15, 60 and 300 s unread, read gate and periodic side by side")
    ct = bench.ct
    started = []
    kept = {}
    try:
        cases = {}  # (mode, quiet s, kind) -> container id
        for m, (mode, ann) in enumerate(MODES.items()):
            for q in QUIET_S:
                for kind in ("first_read", "kept_open_fd"):
                    cid = f"bench-fresh-{m}-{q}-{kind[0]}-{os.getpid()}"
                    ct.start(cid, ct.bundle(cid, ["sleep", "100000"], annotations=ann))
                    started.append(cid)
                    cases[(mode, q, kind)] = cid
        time.sleep(2)
        paths = {k: os.path.join(state_dir(cid), "stat") for k, cid in cases.items()}
        kept = {k: os.open(path, os.O_RDONLY) for k, path in paths.items() if k[2] == "kept_open_fd"}

        def read(k):
            if k in kept:
                return os.pread(kept[k], 1 << 16, 0).decode()
            with open(paths[k]) as f:
                return f.read()

        for k in cases:  # the last read before each spell, all at t0
            read(k)
        t0 = time.monotonic()
        procs = {}
        for mode in MODES:
            pid = renderer_pid(cases[(mode, QUIET_S[-1], "first_read")])
            procs[mode] = with_gates([pid])

        def cpu_now():
            return time.monotonic(), {m: sum(schedstat_ns(p) for p in procs[m]) for m in MODES}

        result = {mode: {"first_read": {}, "kept_open_fd": {}} for mode in MODES}
        cpu = {}
        for q in QUIET_S:
            while time.monotonic() - t0 < q:
                time.sleep(0.05)
                # The longest spell's containers' CPU: from past their hot
                # period (10 s) to just before their read.
                if "start" not in cpu and time.monotonic() - t0 >= 20:
                    cpu["start"] = cpu_now()
            if q == QUIET_S[-1]:
                cpu["end"] = cpu_now()
            for mode in MODES:
                for kind in ("first_read", "kept_open_fd"):
                    age, held = timed_read(lambda: read((mode, q, kind)))
                    result[mode][kind][str(q)] = {"age_s": age, "held_ms": held}
            log(f"freshness: after {q} s: " + ", ".join(
                f"{m}: {result[m]['first_read'][str(q)]['age_s']:.2f} s" for m in MODES))
        (t_a, a), (t_b, b) = cpu["start"], cpu["end"]
        for mode in MODES:
            result[mode]["unread_cpu_us_per_s"] = (b[mode] - a[mode]) / 1e3 / (t_b - t_a)
            result[mode]["processes"] = len(procs[mode])
    finally:
        for fd in kept.values():
            os.close(fd)
        for cid in started:
            ct.delete(cid)
    bench.report["freshness"] = result


def markdown(r):
    if "freshness" not in r:
        return []
    f = r["freshness"]
    out = ["## Freshness: the first read after a quiet spell\n",
           "Age of /proc/stat's content when read (s; negative: rendered after the read began), and how long "
           "the read was held (ms), after 15, 60 and 300 s unread: a new open, or pread on a descriptor "
           "kept open since the last read. Unread CPU: renderer and gate, over the "
           "unread time of the longest spell's container.\n",
           "| mode | read | " + " | ".join(f"after {q} s: age s / held ms" for q in QUIET_S) + " | unread CPU us/s |",
           "|---|---|" + "---|" * len(QUIET_S) + "---|"]
    for mode, v in f.items():
        for kind, label in (("first_read", "open + read"), ("kept_open_fd", "kept-open fd")):
            cells = [f"{v[kind][str(q)]['age_s']:.2f} / {v[kind][str(q)]['held_ms']:.1f}" for q in QUIET_S]
            cpu = f"{v['unread_cpu_us_per_s']:.1f}" if kind == "first_read" else ""
            out.append(f"| {mode} | {label} | " + " | ".join(cells) + f" | {cpu} |")
    gate = f.get("read gate (default)")
    if gate:
        worst = max(x["age_s"] for kind in ("first_read", "kept_open_fd") for x in gate[kind].values())
        out.append(f"\nTargets: every read at most one interval (1 s) old: worst {worst:.2f} s, "
                   f"{'met' if worst <= 1.0 else '**missed**'}; an unread container under 50 us of CPU per "
                   f"second: {gate['unread_cpu_us_per_s']:.1f} us, "
                   f"{'met' if gate['unread_cpu_us_per_s'] < 50 else '**missed**'}.\n")
    return out
