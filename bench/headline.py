"""The headline table of a bench report: the figures README.md quotes, each
from this one run (tests/readme_figures_test.py checks that README's table
is this table, row for row)."""

import statistics


def _median_range(values, digits=1):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def _reads(r, mode):
    """prochook, tmpfs, kernel and LXCFS medians (us) of every file read by one pattern."""
    rows = r["read_latency"]["files"][mode].values()
    return {src: [row[src]["median"] / 1e3 for row in rows] for src in ("prochook", "tmpfs", "kernel", "lxcfs")}


def container_render(r):
    """BM_ContainerRender's figures by host CPU count ("2", "64", "256")."""
    return {n.rpartition("/")[2]: v for n, v in r.get("renderers_ns", {}).items()
            if n.startswith("BM_ContainerRender/")}


def _ok(ok):
    return "met" if ok else "missed"


def table(r):
    out = ["| measure | prochook | target |", "|---|---|---|"]
    if "read_latency" in r:
        o = _reads(r, "open_read_close")
        worst_lx = min(row["lxcfs_over_prochook"] for rows in r["read_latency"]["files"].values()
                       for row in rows.values())
        worst_tm = max(row["prochook_over_tmpfs"] for rows in r["read_latency"]["files"].values()
                       for row in rows.values())
        out.append(f"| open+read+close in the container, us (5 files, median (min-max) of their medians) | "
                   f"{_median_range(o['prochook'])}; tmpfs copy {_median_range(o['tmpfs'])}, kernel procfs "
                   f"{_median_range(o['kernel'])}, LXCFS {_median_range(o['lxcfs'], 0)} | within 1.5x of tmpfs: "
                   f"{_ok(worst_tm <= 1.5)} (worst {worst_tm:.2f}x); 50x faster than LXCFS: "
                   f"{_ok(worst_lx >= 50)} (worst {worst_lx:.0f}x) |")
        s = _reads(r, "lseek_read")
        out.append(f"| lseek+read (top, vmstat, `free -s`), us | {_median_range(s['prochook'])}; LXCFS "
                   f"{_median_range(s['lxcfs'], 0)} | |")
        k = r["read_latency"]["files"]["open_read_close"]
        out.append(f"| the kernel's own /proc/stat and /proc/cpuinfo at this machine's size "
                   f"({r['machine']['cpus']} CPUs), open+read+close us | stat {k['stat']['kernel']['median'] / 1e3:.1f}, "
                   f"cpuinfo {k['cpuinfo']['kernel']['median'] / 1e3:.1f} | |")
    if "freshness" in r:
        f = r["freshness"]
        for mode, v in f.items():
            first = ", ".join(f"{v['first_read'][q]['age_s']:.2f}" for q in v["first_read"])
            kept = ", ".join(f"{v['kept_open_fd'][q]['age_s']:.2f}" for q in v["kept_open_fd"])
            held = max(x["held_ms"] for x in v["first_read"].values())
            worst = max(x["age_s"] for kind in ("first_read", "kept_open_fd") for x in v[kind].values())
            quiet = "/".join(v["first_read"])
            out.append(f"| {mode}: age of the first read after {quiet} s unread, s (open; kept-open fd) | "
                       f"{first}; {kept} (held at most {held:.1f} ms) | at most one interval (1 s): "
                       f"{_ok(worst <= 1.0)} |")
            out.append(f"| {mode}: CPU of an unread container, us/s | {v['unread_cpu_us_per_s']:.1f} | under 50: "
                       f"{_ok(v['unread_cpu_us_per_s'] < 50)} |")
    if "renderer_cost" in r:
        rc = r["renderer_cost"]["by_interval"]
        d = rc.get("1s, idle mode (default)")
        h = rc.get("1s, idle off (files read)")
        if d:
            out.append(f"| renderer unique memory (USS), KiB | {d['memory_kib']['uss']} | under 1024: "
                       f"{_ok(d['memory_kib']['uss'] < 1024)} |")
        if h:
            out.append(f"| renderer CPU, files read continuously (a refresh every 1 s), us/s | "
                       f"{h['cpu_us_per_s']:.0f} | |")
    if "scale" in r and "500" in r["scale"]:
        s = r["scale"]["500"]
        out.append(f"| 500 unread containers, renderers and read gates: CPU, % of one core; PSS in all, MiB; "
                   f"refreshes late | "
                   f"{s['cpu_pct_of_one_core']:.2f}; {s['pss_mib_total']:.0f}; "
                   f"{s['containers_late_by_more_than_one_interval']} | under 5%: "
                   f"{_ok(s['cpu_pct_of_one_core'] < 5)}; none late: "
                   f"{_ok(s['containers_late_by_more_than_one_interval'] == 0)} |")
    render = container_render(r)
    if "2" in render and "256" in render:
        out.append(f"| a refresh's reading and rendering of fixture files (not the kernel) at 2 / 256 host CPUs, "
                   f"us | {render['2']['median'] / 1e3:.0f} / {render['256']['median'] / 1e3:.0f} | |")
    if "start_overhead" in r:
        s = r["start_overhead"]
        out.append(f"| `runc run` of `true`, nothing else served: added ms (ratio) | {s['added_ms']:.1f} "
                   f"({s['ratio']:.2f}x), of which {s['hook_floor_ms']:.1f} ms is runc running any two hooks | "
                   f"under 2 ms: {_ok(s['added_ms'] < 2)} |")
    if "repair_cost" in r:
        rc = r["repair_cost"]
        served = "/".join(rc)
        out.append(f"| `runc run` of `true` with {served} containers served: added ms | "
                   + " / ".join(f"{c['added_ms']:.1f}" for c in rc.values()) + " | grows not with N: "
                   + _ok(max(c["added_ms"] for c in rc.values()) - min(c["added_ms"] for c in rc.values()) < 5)
                   + " |")
    if "loadavg_cost" in r:
        lc = r["loadavg_cost"]
        out.append(f"| renderer CPU, files read, {' / '.join(f'{int(n):,}' for n in lc)} threads in the "
                   f"container, ms/s | " + " / ".join(f"{c['renderer_cpu_ms_per_s']:.1f}" for c in lc.values())
                   + " | bounded by the host, not the container |")
    if "sysinfo_cost" in r:
        sc = r["sysinfo_cost"]
        if "agent" in sc and "host (kernel)" in sc:
            out.append(f"| sysinfo(2) in a wrapper-mode container, us per call (host: kernel) | "
                       f"{sc['agent']['mean_us']:.0f} ({sc['host (kernel)']['mean_us']:.1f}) | |")
    return out
