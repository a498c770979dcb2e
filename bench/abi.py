#!/usr/bin/env python3
"""Process-ABI micro-benchmarks (bench/abi_bench.c) on Keel and on Linux
6.12, in the same QEMU under -icount shift=0,sleep=off -smp 1, where the TSC
counts virtual nanoseconds: repeatable, directly comparable numbers.

usage: abi.py KEEL.elf
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from linux_ref import linux_kernel  # noqa: E402
from qemu_tests import newc_cpio  # noqa: E402

QEMU = ["qemu-system-x86_64", "-M", "microvm", "-cpu", "max", "-m", "256", "-smp", "1",
        "-icount", "shift=0,sleep=off", "-nographic", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def run(kernel, initrd, append):
    t0 = time.monotonic()
    out = subprocess.run(QEMU + ["-kernel", kernel, "-initrd", initrd, "-append", append],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=900).stdout.decode(errors="replace")
    results = {m.group(1): int(m.group(2)) for m in re.finditer(r"^bench (\w+) (\d+)", out, re.M)}
    return results, time.monotonic() - t0, out


def main():
    keel = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "abi_bench")
        subprocess.run(["gcc", "-O2", "-static", "-pthread", "-o", exe, os.path.join(HERE, "abi_bench.c")], check=True)
        initrd = os.path.join(tmp, "abi.cpio")
        open(initrd, "wb").write(newc_cpio({"init": open(exe, "rb").read()}))
        k, kwall, kout = run(keel, initrd, "console=ttyS0 quiet panic=-1")
        vmlinuz = linux_kernel()
        l, lwall, _ = run(vmlinuz, initrd, "console=ttyS0 quiet panic=-1") if vmlinuz else ({}, 0, "")
    if not k:
        sys.exit("abi bench: Keel printed no results:\n" + kout[-3000:])
    print("process ABI, virtual ns per operation (microvm, -icount shift=0,sleep=off, -smp 1)")
    print("%-22s %12s %12s %9s" % ("", "Keel", "Linux 6.12", "Keel/Linux"))
    for name in k:
        lv = l.get(name)
        ratio = "%.3f" % (k[name] / lv) if lv else "-"
        print("%-22s %12d %12s %9s" % (name, k[name], lv if lv else "-", ratio))
    print("wall time: Keel %.1f s, Linux %.1f s" % (kwall, lwall))


if __name__ == "__main__":
    main()
