#!/usr/bin/env python3
"""Builds the default userland `./keel run` boots: Debian's busybox-static
with a link for every applet, a small /etc, and an /init that mounts the
usual file systems and starts an interactive shell on the console.

usage: userland.py OUT.cpio.gz [--init-script FILE] [--add SRC:DEST ...]
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from initramfs import Archive  # noqa: E402

BUSYBOX = "/bin/busybox"

# pid 1. Linux gives init /dev/console without making it a controlling
# terminal, so the shell goes through setsid + cttyhack, which opens the
# real console device (ttyS0) as the new session's controlling tty: then
# ^C, ^Z and job control work.
INIT = """#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
hostname keel
cd /root
echo "Keel: busybox shell (quit: poweroff -f, or Ctrl-A X in QEMU)"
while true; do
    setsid cttyhack sh -l
    echo "shell exited; starting another"
done
"""

ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
    "etc/hostname": "keel\n",
    "etc/profile": "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport HOME=/root\nexport PS1='\\h:\\w\\$ '\n",
    "etc/fstab": "",
}


def applets():
    out = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout
    return sorted(set(l.strip() for l in out.splitlines() if l.strip()))


def build(init_script=INIT, extra=()):
    a = Archive()
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt",
              "var", "run"):
        a.dir(d, 0o1777 if d == "tmp" else 0o700 if d == "root" else 0o755)
    a.file("bin/busybox", open(BUSYBOX, "rb").read())
    for path in applets():
        if path == "bin/busybox":
            continue
        a.symlink(path, "/bin/busybox")
    for name, text in ETC.items():
        a.file(name, text.encode(), 0o644)
    a.file("init", init_script.encode(), 0o755)
    for src, dest in extra:
        a.file(dest.lstrip("/"), open(src, "rb").read(), 0o755)
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--init-script")
    ap.add_argument("--add", action="append", default=[], help="SRC:DEST, an extra executable")
    args = ap.parse_args()
    init = open(args.init_script).read() if args.init_script else INIT
    extra = [tuple(x.split(":", 1)) for x in args.add]
    data = build(init, extra).bytes(compress=True)
    with open(args.out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
