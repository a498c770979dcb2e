#!/usr/bin/env python3
"""Boots Keel in QEMU: the in-kernel test suites on several machines, and
the bad-input cases that must end in a clear message and panic=.

usage: qemu_tests.py KERNEL.elf [--only NAME]
Logs go to <build>/qemu-logs/NAME.log. Exit status 0 only if all passed.
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from initramfs import newc_cpio  # noqa: E402

DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
PASS_EXIT = (0x10 << 1) | 1


class Case:
    def __init__(self, name, machine, smp, append, expect, exit_code=None, mem=256,
                 initrd=None, timeout=120, forbid=("Kernel panic",), extra=(), expect_hang=False):
        self.name, self.machine, self.smp, self.append = name, machine, smp, append
        self.expect, self.exit_code, self.mem, self.initrd = expect, exit_code, mem, initrd
        self.timeout, self.forbid, self.extra = timeout, forbid, list(extra)
        self.expect_hang = expect_hang  # panic=0: must still be waiting at the timeout


HELLO_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char** argv, char** envp) {
    printf("hello from user space: argc=%d argv0=%s argv1=%s\n", argc, argv[0], argc > 1 ? argv[1] : "");
    for (char** e = envp; *e; ++e) printf("env %s\n", *e);
    char* p = malloc(1 << 20);
    memset(p, 'x', 1 << 20);
    printf("malloc ok %c\n", p[(1 << 20) - 1]);
    volatile double d = 1.5;
    printf("fp %.2f\n", d * (argc + 1));
    return 3;
}
"""


def user_initrds(tmp):
    """/init = a static hello program built with glibc, musl, and as a
    static PIE: the three ways a Linux binary starts without a loader."""
    src = os.path.join(tmp, "hello.c")
    open(src, "w").write(HELLO_C)
    out = {}
    for name, cc, flags in (("glibc", "gcc", ["-static"]), ("musl", "musl-gcc", ["-static"]),
                            ("static-pie", "gcc", ["-static-pie"])):
        exe = os.path.join(tmp, "hello-" + name)
        subprocess.run([cc, "-O2"] + flags + ["-o", exe, src], check=True)
        cpio = os.path.join(tmp, "hello-%s.cpio" % name)
        with open(cpio, "wb") as f:
            f.write(newc_cpio({"init": open(exe, "rb").read()}))
        out[name] = cpio
    # Debian's tools make gzip-compressed initramfs images.
    gz = os.path.join(tmp, "hello-glibc.cpio.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(open(out["glibc"], "rb").read()))
    out["gzip"] = gz
    return out


USER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "user")


def user_program_initrd(tmp, name):
    """tests/user/NAME.c built statically as /init, plus the files in
    tests/user/NAME.files/ (executable bits kept)."""
    exe = os.path.join(tmp, name)
    subprocess.run(["gcc", "-O2", "-static", "-o", exe, os.path.join(USER_DIR, name + ".c")], check=True)
    files = {"init": open(exe, "rb").read()}
    extra = os.path.join(USER_DIR, name + ".files")
    if os.path.isdir(extra):
        for f in sorted(os.listdir(extra)):
            files[f] = open(os.path.join(extra, f), "rb").read()
    cpio = os.path.join(tmp, name + ".cpio")
    with open(cpio, "wb") as f:
        f.write(newc_cpio(files))
    return cpio


def user_machine(name):
    """tests/user/NAME.qemu, if present, changes the machine a program runs
    on, the same for Keel and for Linux when its output is recorded: words
    "smp=N" and "icount" (-icount shift=0,sleep=off: one virtual ns per
    instruction, so timing-based checks repeat exactly)."""
    smp, extra = 2, []
    path = os.path.join(USER_DIR, name + ".qemu")
    if os.path.exists(path):
        for word in open(path).read().split():
            if word.startswith("smp="):
                smp = int(word[4:])
            elif word == "icount":
                extra += ["-icount", "shift=0,sleep=off"]
    return smp, extra


def busybox_initrd(tmp):
    """The default userland of ./keel run (built once per run)."""
    path = os.path.join(tmp, "userland.cpio.gz")
    if not os.path.exists(path):
        import userland  # noqa: E402 (tools/userland.py)
        with open(path, "wb") as f:
            f.write(userland.build().bytes(compress=True))
    return path


def stress_initrd(tmp):
    exe = os.path.join(tmp, "sysfuzz")
    subprocess.run(["gcc", "-O2", "-static", "-o", exe,
                    os.path.join(USER_DIR, "..", "stress", "sysfuzz.c")], check=True)
    cpio = os.path.join(tmp, "sysfuzz.cpio")
    with open(cpio, "wb") as f:
        f.write(newc_cpio({"init": open(exe, "rb").read()}))
    return cpio


KERNEL_LOG = re.compile(r"\[\s*\d+\.\d{6}\].*$")


def program_output(console):
    """What the program printed: the console minus kernel log lines (a log
    line may also start in the middle of a program's unfinished line)."""
    out = []
    for line in console.splitlines():
        line = KERNEL_LOG.sub("", line.rstrip("\r"))
        if line and not line.startswith(" [<"):
            out.append(line)
    return out


def user_programs():
    return sorted(f[:-2] for f in os.listdir(USER_DIR) if f.endswith(".c"))


def cases(tmp):
    good = os.path.join(tmp, "good.cpio")
    with open(good, "wb") as f:
        f.write(newc_cpio({"init": b"#!/bin/sh\necho hi\n" * 100}))
    truncated_gz = os.path.join(tmp, "truncated.cpio.gz")
    with open(truncated_gz, "wb") as f:
        f.write(gzip.compress(open(good, "rb").read())[:-20])
    truncated = os.path.join(tmp, "truncated.cpio")
    with open(truncated, "wb") as f:
        f.write(open(good, "rb").read()[:700])
    ktest = "console=ttyS0 ktest=all panic=-1"
    panic_end = "---[ end Kernel panic ]---"
    c = [
        Case("ktest-microvm-smp1", "microvm", 1, ktest, ["cpus online: 1", "ktest: ", " 0 failed"], PASS_EXIT),
        Case("ktest-microvm-smp2", "microvm", 2, ktest, ["cpus online: 2", "ktest: ", " 0 failed"], PASS_EXIT),
        Case("ktest-microvm-noacpi-smp4", "microvm,acpi=off", 4, ktest,
             ["described by MP table", "cpus online: 4", "ioapic: ", "ktest: ", " 0 failed"], PASS_EXIT),
        Case("ktest-q35-smp4", "q35", 4, ktest,
             ["described by ACPI MADT", "cpus online: 4", "ioapic: ", "ktest: ", " 0 failed"], PASS_EXIT),
        # The wall-clock nice-ratio test is not meaningful with 8 vCPUs on 2 host cores.
        Case("ktest-sched-icount", "microvm", 1, "console=ttyS0 ktest=sched keel.icount panic=-1",
             ["ktest: ", " 0 failed"], PASS_EXIT, extra=["-icount", "shift=0,sleep=off"]),
        Case("ktest-microvm-smp8", "microvm", 8, "console=ttyS0 ktest=smp,mm,time,irq panic=-1",
             ["cpus online: 8", "ktest: ", " 0 failed"], PASS_EXIT),
        Case("bad-unknown-ktest", "microvm", 1, "console=ttyS0 ktest=nosuchsuite panic=-1",
             ["unknown suite 'nosuchsuite'", panic_end], 0, forbid=()),
        Case("bad-no-initrd", "microvm", 1, "console=ttyS0 panic=-1",
             ["No initramfs", panic_end], 0, forbid=()),
        Case("bad-truncated-initrd", "microvm", 1, "console=ttyS0 panic=-1",
             ["initramfs is truncated", panic_end], 0, initrd=truncated, forbid=()),
        Case("bad-truncated-gzip-initrd", "microvm", 1, "console=ttyS0 panic=-1",
             ["initramfs is truncated", panic_end], 0, initrd=truncated_gz, forbid=()),
        Case("good-initrd-checked", "microvm", 1, "console=ttyS0 panic=-1",
             ["initramfs: 1 files", panic_end], 0, initrd=good, forbid=()),
        Case("bad-overlong-cmdline", "microvm", 1, "console=ttyS0 panic=-1 " + "x" * 3000,
             ["Kernel command line: truncated", panic_end], 0, forbid=()),
        Case("bad-unterminated-quote", "microvm", 1, 'console=ttyS0 panic=-1 init="/bin/sh',
             ["Kernel command line: unterminated quote", panic_end], 0, forbid=()),
        Case("bad-tiny-memory", "microvm", 1, "console=ttyS0 panic=-1", ["Kernel panic", panic_end], 0,
             mem=8, forbid=()),
        Case("panic-timeout-reboots", "microvm", 1, "console=ttyS0 panic=1",
             ["Rebooting in 1 seconds", panic_end], 0, forbid=()),
        Case("panic-zero-waits-forever", "microvm", 1, "console=ttyS0 panic=0",
             [panic_end], None, forbid=(), timeout=8, expect_hang=True),
        Case("loglevel-hides-info", "microvm", 1, "console=ttyS0 loglevel=1 panic=-1",
             ["Kernel panic", panic_end], 0, forbid=("Memory:",)),
    ]
    for name, initrd in user_initrds(tmp).items():
        c.append(Case("user-hello-" + name, "microvm", 2, "console=ttyS0 panic=-1 HELLO=1 -- first",
                      ["hello from user space: argc=2 argv0=/init argv1=first", "env HOME=/", "env TERM=linux",
                       "env HELLO=1", "malloc ok x", "fp 4.50",
                       "Attempted to kill init! exitcode=0x00000300", panic_end],
                      0, initrd=initrd, forbid=()))
    # tests/user/NAME.c as init must print exactly what it printed on Linux
    # 6.12 (NAME.expected, made with --regen-expected).
    for name in user_programs():
        exp_path = os.path.join(USER_DIR, name + ".expected")
        # A program without recorded output fails (rather than stopping the run).
        expected = open(exp_path).read().splitlines() if os.path.exists(exp_path) else ["(no %s.expected)" % name]
        smp, extra = user_machine(name)
        case = Case("user-" + name.replace("_", "-"), "microvm", smp, "console=ttyS0 panic=-1 quiet",
                    ["Attempted to kill init!"], 0, initrd=user_program_initrd(tmp, name), forbid=(), extra=extra,
                    timeout=240 if extra else 120)
        case.expect_output = expected
        c.append(case)
    # Random system calls from unprivileged children for 60 s (tests/stress/sysfuzz.c):
    # no panic, no hang, and the health check at the end passes; then it
    # powers the VM off.
    c.append(Case("stress-sysfuzz-60s", "microvm", 2, "console=ttyS0 panic=-1 quiet -- 60",
                  ["sysfuzz: health ok", "reboot: Power down"], 0, initrd=stress_initrd(tmp), timeout=150))
    # reboot(2) power-off through ACPI: the GED sleep register on microvm,
    # PM1a_CNT on q35 (QEMU exits with status 0).
    for machine in ("microvm", "q35"):
        c.append(Case("poweroff-" + machine, machine, 2, "console=ttyS0 panic=-1 init=/sbin/poweroff -- -f",
                      ["reboot: Power down"], 0, initrd=busybox_initrd(tmp), timeout=60))
    # The panic path names what broke and where (keel.crashtest= breaks it on purpose).
    crashes = {
        "pagefault": ["page fault at 0000000000000010", "RIP: 0010:", "crash_pagefault", "Call Trace"],
        "divide": ["divide error (vector 0", "crash_divide"],
        "stackoverflow": ["kernel stack overflow in thread kinit", "crash_recurse"],
        "doublefree": ["slab: double free", "crash_doublefree"],
        "useafterfree": ["slab: object written after it was freed", "crash_useafterfree"],
        "lockrank": ["lock rank violation", "crash_lockrank"],
    }
    for name, expect in crashes.items():
        c.append(Case("crash-" + name, "microvm", 1, "console=ttyS0 panic=-1 keel.crashtest=" + name,
                      expect + [panic_end], 0, forbid=("No working init",)))
    return c


def run_case(kernel, case, logdir):
    cmd = ["qemu-system-x86_64", "-M", case.machine, "-cpu", "max", "-m", str(case.mem),
           "-smp", str(case.smp), "-nographic", "-no-reboot", "-kernel", kernel,
           "-append", case.append] + DEBUG_EXIT + case.extra
    if case.initrd:
        cmd += ["-initrd", case.initrd]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=case.timeout)
        out, code, hung = p.stdout.decode(errors="replace"), p.returncode, False
    except subprocess.TimeoutExpired as e:
        out, code, hung = (e.stdout or b"").decode(errors="replace"), None, True
    elapsed = time.monotonic() - start
    with open(os.path.join(logdir, case.name + ".log"), "w") as f:
        f.write(" ".join(cmd) + "\n\n" + out)
    problems = []
    if hung != case.expect_hang:
        problems.append("hung (no exit within %ds)" % case.timeout if hung else "exited, expected to wait forever")
    elif case.exit_code is not None and code != case.exit_code:
        problems.append("exit status %s, expected %s" % (code, case.exit_code))
    for e in case.expect:
        if e not in out:
            problems.append("missing %r" % e)
    for bad in case.forbid:
        if bad in out:
            problems.append("unexpected %r" % bad)
    expected_output = getattr(case, "expect_output", None)
    if expected_output is not None and program_output(out) != expected_output:
        got = program_output(out)
        for i, (e, g) in enumerate(zip(expected_output + [""] * len(got), got + [""] * len(expected_output))):
            if e != g:
                problems.append("output line %d: expected %r, got %r" % (i + 1, e, g))
                break
    if "not ok" in out and case.name.startswith("ktest"):
        problems.append("a test failed: " + ", ".join(
            l.strip() for l in out.splitlines() if "not ok" in l or "# FAIL" in l))
    return problems, elapsed


def regen_expected(only=None):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
    import boot_time  # noqa: E402 (the cached Linux reference kernel)
    vmlinuz = boot_time.linux_kernel()
    mhz = [l for l in open("/proc/cpuinfo") if l.startswith("cpu MHz")][0].split(":")[1]
    khz = int(float(mhz) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        for name in user_programs():
            if only and name not in only and "user-" + name.replace("_", "-") not in only:
                continue
            smp, extra = user_machine(name)
            # Under icount the TSC runs at the virtual 1 GHz: Linux calibrates it.
            append = "console=ttyS0 panic=-1 quiet" + ("" if extra else " tsc_early_khz=%d tsc=reliable" % khz)
            cmd = ["qemu-system-x86_64", "-M", "microvm", "-cpu", "max", "-m", "256", "-smp", str(smp), "-nographic",
                   "-no-reboot", "-kernel", vmlinuz, "-initrd", user_program_initrd(tmp, name), "-append",
                   append] + extra
            out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=400).stdout
            lines = program_output(out.decode(errors="replace"))
            with open(os.path.join(USER_DIR, name + ".expected"), "w") as f:
                f.write("\n".join(lines) + "\n")
            print("%s: %d lines from Linux" % (name, len(lines)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel")
    ap.add_argument("--only", action="append")
    ap.add_argument("--regen-expected", action="store_true",
                    help="boot Linux 6.12 to rewrite tests/user/*.expected (those named by --only, or all), then exit")
    args = ap.parse_args()
    if args.regen_expected:
        regen_expected(args.only)
        return
    logdir = os.path.join(os.path.dirname(os.path.abspath(args.kernel)), "qemu-logs")
    os.makedirs(logdir, exist_ok=True)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases(tmp):
            if args.only and case.name not in args.only:
                continue
            problems, secs = run_case(args.kernel, case, logdir)
            if problems:
                failed += 1
                print("FAIL %-28s %5.1fs  %s  (log: %s/%s.log)" % (case.name, secs, "; ".join(problems),
                                                                  logdir, case.name))
            else:
                passed += 1
                print("ok   %-28s %5.1fs" % (case.name, secs))
            sys.stdout.flush()
    print("qemu: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
