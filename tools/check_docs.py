#!/usr/bin/env python3
"""Fails if a system call implemented in the kernel (SYSCALL(name) in
kernel/) is missing from docs/syscalls.md's table."""
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
implemented = set()
for d, _, files in os.walk(os.path.join(root, "kernel")):
    for f in files:
        if f.endswith(".cpp"):
            implemented |= set(re.findall(r"^SYSCALL\((\w+)\)", open(os.path.join(d, f)).read(), re.M))
documented = set()
for line in open(os.path.join(root, "docs", "syscalls.md")):
    if line.startswith("|"):
        documented |= set(re.findall(r"[a-z_0-9]+", line.split("|")[1]))
missing = sorted(implemented - documented)
if missing:
    sys.exit("docs/syscalls.md lacks: " + ", ".join(missing))
print("docs: %d implemented system calls, all in docs/syscalls.md" % len(implemented))
