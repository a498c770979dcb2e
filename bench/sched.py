#!/usr/bin/env python3
"""Scheduler benchmarks (bench/sched_bench.c) on Keel and on Linux 6.12, on the
same QEMU command line:
  - virtual time: -icount shift=0,sleep=off -smp 1, where the TSC counts
    virtual ns (one per guest instruction): repeatable, directly comparable;
  - wall clock: -smp 2 without icount (multi-threaded TCG on the host's
    cores), timed with CLOCK_MONOTONIC: noisy, shared with whatever else the
    host runs, but the only place where two CPUs really run at once.
Lower is better everywhere; the last column is Keel/Linux.

Both kernels first sleep SETTLE seconds as /init: Linux 6.12 keeps kernel
threads busy for about 0.9 s (virtual) after /init starts and a benchmark
run in that window measures them (sched_yield then hands the CPU to them).
Under icount with sleep=off the wait costs no wall time.

Under icount a boot repeats to the instruction, but hackbench is chaotic:
a change as small as the length of one kernel parameter moves it between
two clusters about 25% apart (70 and 88 ms on Keel). Each boot therefore
passes a different dummy parameter (bench_run=N, which both kernels hand to
init's environment) and the figures are medians over the boots.

usage: sched.py KEEL.elf [--only icount|wall] [--keel-only] [--smp N] [--mode "wakeup 1 2 100 4000"]...
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from linux_ref import linux_append, linux_kernel  # noqa: E402
from initramfs import newc_cpio  # noqa: E402

QEMU = ["qemu-system-x86_64", "-M", "microvm", "-cpu", "max", "-m", "256",
        "-nographic", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
BASE_APPEND = "console=ttyS0 quiet panic=-1"
SETTLE = 3

# Each configuration: QEMU options, clock, and the modes run in one boot.
CONFIGS = {
    "icount": {
        "title": "virtual time, -icount shift=0,sleep=off -smp 1",
        "qemu": ["-smp", "1", "-icount", "shift=0,sleep=off"],
        "clock": "tsc",
        "runs": 5,
        "modes": [
            "hackbench process 2 50",
            "hackbench thread 2 50",
            "wakeup 1 1 4000 1000",
            "wakeup 1 2 2000 4000",
            "wakeup 2 4 1000 4000",
            "pingpong pipe process 5000",
            "pingpong pipe thread 5000",
            "pingpong futex process 5000",
            "pingpong futex thread 5000",
            "yield process 5000",
            "yield thread 5000",
        ],
    },
    "wall": {
        "title": "wall clock, -smp 2 (no icount; noisy)",
        "qemu": ["-smp", "2"],
        "clock": "mono",
        "runs": 3,
        "modes": [
            "hackbench process 2 50",
            "hackbench thread 2 50",
            "wakeup 1 1 1000 1000",
            "wakeup 2 4 1000 4000",
            "pingpong pipe process 2000",
            "pingpong futex thread 2000",
        ],
    },
}

PLURAL = {"process": "processes", "thread": "threads"}


# bench name -> (row label, divisor, unit)
def describe(name):
    m = re.match(r"hackbench_(process|thread)_g(\d+)_l(\d+)$", name)
    if m:
        return "hackbench -pipe, %s, %s groups x %s loops (total)" % m.groups(), 1e6, "ms"
    m = re.match(r"wakeup_m(\d+)_w(\d+)_(p50|p99|p999)$", name)
    if m:
        pct = {"p50": "p50", "p99": "p99", "p999": "p99.9"}[m.group(3)]
        return "wake-up latency %s, %s msg x %s wrk" % (pct, m.group(1), m.group(2)), 1e3, "us"
    m = re.match(r"ctxsw_(pipe|futex)_(process|thread)$", name)
    if m:
        return "context switch, %s, two %s, CPU 0" % (m.group(1), PLURAL[m.group(2)]), 1, "ns"
    m = re.match(r"yield_(process|thread)$", name)
    if m:
        return "sched_yield, two %s, CPU 0" % PLURAL[m.group(1)], 1, "ns"
    return name, 1, ""


def build(tmp):
    exe = os.path.join(tmp, "sched_bench")
    subprocess.run(["gcc", "-O2", "-static", "-pthread", "-o", exe, os.path.join(HERE, "sched_bench.c")],
                   check=True)
    return open(exe, "rb").read()


def initramfs(tmp, exe, cfg):
    lines = ["settle %d" % SETTLE] + ["-c %s %s" % (cfg["clock"], m) for m in cfg["modes"]]
    path = os.path.join(tmp, "sched-%s.cpio" % cfg["clock"])
    open(path, "wb").write(newc_cpio({"init": exe, "args": ("\n".join(lines) + "\n").encode()}))
    return path


def boot(kernel, initrd, cfg, append, timeout):
    t0 = time.monotonic()
    cmd = QEMU + cfg["qemu"] + ["-kernel", kernel, "-initrd", initrd, "-append", append]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        out, timed_out = p.stdout.decode(errors="replace"), False
    except subprocess.TimeoutExpired as e:
        out, timed_out = (e.stdout or b"").decode(errors="replace"), True
    results = {m.group(1): int(m.group(2)) for m in re.finditer(r"^bench (\w+) (\d+)", out, re.M)}
    checks = re.findall(r"^((?:check|error) .*)$", out, re.M)
    problem = None
    if timed_out or "bench done" not in out:
        modes = re.findall(r"^mode (.*)$", out, re.M)
        problem = "%s during '%s'" % ("timed out after %d s" % timeout if timed_out else "stopped",
                                        modes[-1] if modes else "boot")
    return results, checks, time.monotonic() - t0, problem, out


def fmt(v, div):
    if v is None:
        return "-"
    x = v / div
    return "{:,.0f}".format(x) if x >= 100 or div == 1 else "{:,.2f}".format(x)


def measure(kernel, initrd, cfg, append, runs, timeout):
    """Boots `runs` times; the median of each figure, the first run's checks
    with every run's errors, the wall time, and what went wrong."""
    results, checks, problems, wall, out = [], [], [], 0.0, ""
    for i in range(runs):
        r, c, w, problem, out = boot(kernel, initrd, cfg, append + " bench_run=%s" % ("x" * i), timeout)
        results.append(r)
        checks += [x for x in c if i == 0 or x.startswith("error")]
        wall += w
        if problem:
            problems.append(problem + ("" if runs == 1 else " (run %d)" % (i + 1)))
            problems += ["console, last lines:"] + ["  " + line for line in out.splitlines()[-15:]]
    median = {}
    for name in dict.fromkeys(n for r in results for n in r):
        vals = sorted(r[name] for r in results if name in r)
        median[name] = vals[len(vals) // 2]
    return median, checks, wall, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("keel")
    ap.add_argument("--only", choices=sorted(CONFIGS), action="append")
    ap.add_argument("--keel-only", action="store_true")
    ap.add_argument("--mode", action="append", help="run this mode instead of the configuration's list")
    ap.add_argument("--runs", type=int, help="boots per kernel (default: 5 under icount, 3 for wall clock)")
    ap.add_argument("--timeout", type=int, default=240, help="per boot, seconds")
    ap.add_argument("--smp", type=int, help="vCPUs for the wall-clock configuration (default 2)")
    args = ap.parse_args()
    vmlinuz = None if args.keel_only else linux_kernel()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        for key in args.only or ["icount", "wall"]:
            cfg = dict(CONFIGS[key], modes=args.mode or CONFIGS[key]["modes"])
            if args.smp and key == "wall":
                cfg["qemu"] = ["-smp", str(args.smp)]
                cfg["title"] = cfg["title"].replace("-smp 2", "-smp %d" % args.smp)
            runs = args.runs or cfg["runs"]
            initrd = initramfs(tmp, exe, cfg)
            k, kchecks, kwall, kproblems = measure(args.keel, initrd, cfg, BASE_APPEND, runs, args.timeout)
            l, lchecks, lwall, lproblems = {}, [], 0, []
            if vmlinuz:
                # Outside icount Linux needs the TSC frequency given (reference-linux.md).
                lappend = BASE_APPEND if key == "icount" else linux_append(BASE_APPEND)
                l, lchecks, lwall, lproblems = measure(vmlinuz, initrd, cfg, lappend, runs, args.timeout)
            print("scheduler, %s%s; lower is better" % (cfg["title"], ", median of %d boots" % runs if runs > 1 else ""))
            print("%-58s %5s %12s %12s %10s" % ("", "unit", "Keel", "Linux 6.12", "Keel/Linux"))
            for name in list(k) + [n for n in l if n not in k]:
                label, div, unit = describe(name)
                kv, lv = k.get(name), l.get(name)
                ratio = "%.2f" % (kv / lv) if kv is not None and lv else "-"
                print("%-58s %5s %12s %12s %10s" % (label, unit, fmt(kv, div), fmt(lv, div), ratio))
            for who, checks, problems in (("Keel", kchecks, kproblems), ("Linux", lchecks, lproblems)):
                for c in checks + problems:
                    print("  %s: %s" % (who, c))
                failed |= bool(problems) or any(c.startswith("error") for c in checks)
            print("  wall time: Keel %.1f s, Linux %.1f s\n" % (kwall, lwall), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
