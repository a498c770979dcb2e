#!/usr/bin/env python3
"""Boot-time benchmark: Keel next to Linux 6.12 on the same QEMU command line,
under -icount shift=0,sleep=off -smp 1 (one virtual ns per guest instruction).

usage: boot_time.py KEEL.elf
Keel reports the virtual time (TSC, which counts virtual ns under icount)
from reset to its first kernel thread and to the point where it would start
init. For both kernels the headline figure is the TSC read by a static /init
as its first act (boot to /init).
Linux is Debian's linux-image-6.12.*-cloud-amd64-unsigned, fetched with
apt-get download and cached in ~/.cache/keel/linux.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from qemu_tests import newc_cpio  # noqa: E402
from linux_ref import linux_kernel  # noqa: E402

QEMU = ["qemu-system-x86_64", "-M", "microvm", "-cpu", "max", "-m", "256", "-smp", "1",
        "-icount", "shift=0,sleep=off", "-nographic", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]

INIT_C = r"""
#include <stdio.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>
int main(void) {
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    printf("bench: init_tsc=%llu\n", ((unsigned long long)hi << 32) | lo);
    fflush(stdout);
    if (ioperm(0xf4, 4, 1) == 0) outl(0x10, 0xf4);
    reboot(RB_AUTOBOOT);
    return 0;
}
"""


def build_initramfs(tmp):
    src = os.path.join(tmp, "init.c")
    exe = os.path.join(tmp, "init")
    open(src, "w").write(INIT_C)
    subprocess.run(["gcc", "-O2", "-static", "-o", exe, src], check=True)
    path = os.path.join(tmp, "initramfs.cpio")
    open(path, "wb").write(newc_cpio({"init": open(exe, "rb").read()}))
    return path


def run(cmd, timeout=300):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.stdout.decode(errors="replace"), time.monotonic() - t0


def main():
    keel = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        initrd = build_initramfs(tmp)
        keel_runs = []
        for _ in range(3):
            out, wall = run(QEMU + ["-kernel", keel, "-initrd", initrd,
                                    "-append", "console=ttyS0 quiet panic=-1 keel.bench"])
            m = re.search(r"keel-bench: kmain_ns=(\d+) first_kthread_ns=(\d+) init_ready_ns=(\d+)", out)
            if not m:
                sys.exit("bench: Keel did not report its boot times:\n" + out[-2000:])
            keel_runs.append((int(m.group(2)), int(m.group(3)), wall, int(m.group(1))))
        keel_init = []
        for _ in range(3):
            out, wall = run(QEMU + ["-kernel", keel, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1"])
            m = re.search(r"bench: init_tsc=(\d+)", out)
            if not m:
                sys.exit("bench: /init did not report on Keel:\n" + out[-2000:])
            keel_init.append((int(m.group(1)), wall))
        vmlinuz = linux_kernel()
        linux = None
        if vmlinuz:
            out, wall = run(QEMU + ["-kernel", vmlinuz, "-initrd", initrd,
                                    "-append", "console=ttyS0 quiet panic=-1"])
            m = re.search(r"bench: init_tsc=(\d+)", out)
            if m:
                linux = (int(m.group(1)), wall)
    first = min(r[0] for r in keel_runs)
    ready = min(r[1] for r in keel_runs)
    wall = min(r[2] for r in keel_runs)
    print("boot time, virtual ns from reset (QEMU microvm, -icount shift=0,sleep=off, -smp 1, -m 256)")
    print("%-34s %14s %12s" % ("", "virtual", "wall (s)"))
    print("%-34s %11.3f ms %12s" % ("Keel: kmain entered", min(r[3] for r in keel_runs) / 1e6, ""))
    print("%-34s %11.3f ms %12s" % ("Keel: first kernel thread", first / 1e6, ""))
    print("%-34s %11.3f ms %12.2f" % ("Keel: ready to start init", ready / 1e6, wall))
    kinit = min(r[0] for r in keel_init)
    print("%-34s %11.3f ms %12.2f" % ("Keel: /init starts", kinit / 1e6, min(r[1] for r in keel_init)))
    if linux:
        print("%-34s %11.3f ms %12.2f" % ("Linux 6.12: /init starts", linux[0] / 1e6, linux[1]))
        print("ratio Keel/Linux (boot to /init): %.4f  (Linux %.0fx slower)" % (kinit / linux[0], linux[0] / kinit))
    else:
        print("Linux 6.12: not available (apt-get download failed); no ratio")
    print("target: Keel boots to /init in under 50 ms of virtual time: %s" % ("met" if kinit < 50e6 else "NOT met"))


if __name__ == "__main__":
    main()
