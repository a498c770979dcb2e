#!/usr/bin/env python3
"""Drives `./keel run`'s busybox shell through a terminal, as a person
would: QEMU runs inside a tmux pane, keys go in with `tmux send-keys`, and
what the screen shows comes back with `tmux capture-pane`.

usage: shell_test.py KERNEL.elf USERLAND.cpio.gz
"""
import os
import subprocess
import sys
import time

SESSION = "keel-shell-test-%d" % os.getpid()


def tmux(*args, check=True):
    return subprocess.run(["tmux"] + list(args), capture_output=True, text=True, check=check).stdout


def screen():
    # Trailing blank rows go, so offsets into the text only grow.
    return tmux("capture-pane", "-p", "-J", "-S", "-5000", "-t", SESSION, check=False).rstrip()


def keys(*k):
    tmux("send-keys", "-t", SESSION, *k)


def wait_for(text, timeout=20, since=0):
    """Waits until `text` appears in the screen after character `since`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = screen()
        if text in s[since:]:
            return s
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %r; screen:\n%s" % (text, screen()[-3000:]))


def run(cmd, expect, timeout=20):
    """Types a command line and waits for `expect` after it."""
    mark = len(screen())
    keys(cmd, "Enter")
    return wait_for(expect, timeout, since=max(0, mark - 200))


def main():
    kernel, initrd = sys.argv[1], sys.argv[2]
    qemu = ("qemu-system-x86_64 -M microvm -cpu max -m 512 -smp 2 -nographic -no-reboot "
            "-kernel %s -initrd %s -append 'console=ttyS0 panic=-1 quiet'" % (kernel, initrd))
    tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "50", qemu)
    checks = []

    def check(name, fn):
        fn()
        checks.append(name)
        print("ok   shell: " + name)
        sys.stdout.flush()

    try:
        check("boots to a prompt", lambda: wait_for("keel:~#", 60))
        check("pipeline", lambda: run("echo hello world | tr a-z A-Z | sed s/WORLD/KEEL/", "HELLO KEEL"))
        check("redirection", lambda: run("echo saved > /tmp/f; cat < /tmp/f; wc -c < /tmp/f", "saved\n6"))

        def line_editing():
            # Type "echo wrld", move left over "rld", insert "o": "echo world".
            mark = len(screen())
            keys("echo wrld")
            keys("Left", "Left", "Left", "o", "Enter")
            wait_for("\nworld", 10, since=max(0, mark - 100))
        check("line editing (cursor keys)", line_editing)

        def interrupt():
            mark = len(screen())
            keys("sleep 100; echo after-sleep-$?", "Enter")
            time.sleep(1.5)
            keys("C-c")
            wait_for("^C", 10, since=mark)
            s = wait_for("keel:~#", 10, since=screen().rindex("^C"))
            # As on Linux 6.12, ash sees its job die of SIGINT, raises SIGINT
            # itself and abandons the rest of the line.
            if "after-sleep-" in s[mark:].replace("after-sleep-$?", ""):
                raise AssertionError("the command line went on after ^C")
        check("^C interrupts a foreground sleep", interrupt)

        def job_control():
            mark = len(screen())
            keys("sleep 100", "Enter")
            time.sleep(1.5)
            keys("C-z")
            wait_for("Stopped", 10, since=mark)
            run("jobs", "sleep 100")
            run("bg", "sleep 100")
            mark = len(screen())
            keys("fg", "Enter")
            time.sleep(1)
            keys("C-c")
            wait_for("^C\nkeel:~#", 10, since=mark)
        check("^Z, jobs, bg and fg", job_control)

        check("background job and wait", lambda: run("(sleep 1; echo bg-done) & wait; echo waited", "waited"))
        check("ls -l /proc", lambda: run("ls -l /proc | grep -c meminfo", "\n1"))
        check("ps", lambda: run("ps", "PID   USER"))
        check("top -n 1", lambda: run("top -n 1 -b | head -5", "Mem:"))
        check("free", lambda: run("free", "Mem:"))
        check("df", lambda: run("df /tmp", "/tmp"))
        check("mount", lambda: run("mount", "proc on /proc type proc"))
        check("dmesg", lambda: run("dmesg | grep -c 'Keel version'", "\n1"))
        check("uname", lambda: run("uname -sr", "Linux 6.12"))
    except AssertionError as e:
        print("FAIL shell: %s" % e)
        print("shell: %d passed, 1 failed" % len(checks))
        sys.exit(1)
    finally:
        tmux("kill-session", "-t", SESSION, check=False)
    print("shell: %d passed, 0 failed" % len(checks))


if __name__ == "__main__":
    main()
