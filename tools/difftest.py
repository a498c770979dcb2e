#!/usr/bin/env python3
"""Differential tests: the same initramfs on Linux 6.12 and on Keel, check by check.

usage: difftest.py [--kernel KEEL.elf] [--linux-only] [--only NAME...] [--jobs N]
                   [--keep DIR] [--timeout SECONDS] [-v]

Builds one initramfs (tests/diff/init.c as /init; every tests/diff/c/*.c
compiled statically with gcc (glibc) and with musl-gcc as NAME.glibc and
NAME.musl; busybox from busybox-static with its applet links; every
tests/diff/sh/*.sh, run by busybox sh), boots it on Linux 6.12 (Debian's
cloud kernel, see tools/linux_ref.py) and on Keel on the same QEMU command
line, and compares the `CHECK name: value` lines each test prints. A check is
identified as TEST:NAME (TEST is e.g. proc_fork.glibc or sh_basic.sh); every
test's exit status is a check too (TEST:exit). Missing, extra and different
checks are failures, except those listed in tests/diff/known-differences.txt,
which are reported apart. --linux-only boots Linux twice and compares it with
itself (every check must be deterministic). The last line is
`difftest: N passed, M failed`; the exit status is non-zero on failure.
See tests/diff/README.md.
"""
import argparse
import concurrent.futures
import fnmatch
import glob
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linux_ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DIFF = os.path.join(ROOT, "tests", "diff")
KNOWN = os.path.join(DIFF, "known-differences.txt")
MARK = "@@@KEEL-DIFFTEST"
QEMU = ["qemu-system-x86_64", "-M", "microvm,rtc=on", "-m", "512", "-smp", "2", "-cpu", "max",
        "-nographic", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
KEEL_APPEND = "console=ttyS0 quiet panic=-1"
CFLAGS = ["-static", "-O1", "-w", "-pthread", "-I", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "diff", "c")]
LIBS = ["-lrt"]
TEST_TIMEOUT = 30          # seconds, per test inside the guest
DONE_GRACE = 3             # seconds QEMU may take to exit after init printed DONE
CHECK_RE = re.compile(r"^CHECK ([A-Za-z0-9_.\-/\[\]]+): ?(.*)$")
PACKAGES = {"gcc": "gcc", "musl-gcc": "musl-tools", "qemu-system-x86_64": "qemu-system-x86",
            "/bin/busybox": "busybox-static"}


def log(msg):
    print(msg, flush=True)


def fatal(msg):
    """Stops before any comparison; the summary line still ends the output."""
    log("difftest: " + msg)
    log("difftest: 0 passed, 1 failed")
    sys.exit(1)


# ---------------------------------------------------------------- host tools

def ensure_tools():
    missing = sorted({pkg for tool, pkg in PACKAGES.items()
                      if not (os.path.exists(tool) if tool.startswith("/") else shutil.which(tool))})
    if tool_is_dynamic_busybox():
        missing.append("busybox-static")
    if not missing:
        return
    log("difftest: installing %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, env=env,
                           capture_output=True, text=True)
    if r.returncode != 0:
        fatal("cannot install %s:\n%s" % (" ".join(missing), r.stderr[-2000:]))


def tool_is_dynamic_busybox():
    """Debian's busybox (dynamic) and busybox-static both own /bin/busybox."""
    try:
        with open("/bin/busybox", "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    return b"ld-linux" in head


# ---------------------------------------------------------------- initramfs

class Cpio:
    """A cpio 'newc' archive built in memory (directories, files, symlinks, nodes)."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1
        self.names = set()

    def _add(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.strip("/")
        if name in self.names:
            return
        self.names.add(name)
        nb = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(nb), 0)
        self.out += ("070701" + "".join("%08x" % v for v in fields)).encode() + nb
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)
        self.ino += 1

    def dir(self, name, mode=0o755):
        self._parent(name)
        self._add(name, stat.S_IFDIR | mode)

    def _parent(self, name):
        parent = os.path.dirname(name.strip("/"))
        if parent:
            self.dir(parent)

    def file(self, name, data, mode=0o755):
        self._parent(name)
        self._add(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._parent(name)
        self._add(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._add(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def bytes(self):
        self._add("TRAILER!!!", 0)
        return bytes(self.out)


def compile_one(cc, src, exe):
    r = subprocess.run([cc] + CFLAGS + ["-o", exe, src] + LIBS, capture_output=True, text=True)
    return exe, r.returncode, r.stderr


def select(names, only):
    if not only:
        return names
    keep = []
    for n in names:
        base = n.split(".")[0]
        if any(fnmatch.fnmatch(n, pat) or fnmatch.fnmatch(base, pat) for pat in only):
            keep.append(n)
    return keep


def build_initramfs(work, only, jobs):
    """Returns (path of the cpio, list of test names in run order)."""
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    c_sources = sorted(glob.glob(os.path.join(DIFF, "c", "*.c")))
    sh_sources = sorted(glob.glob(os.path.join(DIFF, "sh", "*.sh")))
    jobs_list = [("musl-gcc", os.path.join(DIFF, "init.c"), os.path.join(bindir, "init"))]
    c_tests = []
    for src in c_sources:
        base = os.path.splitext(os.path.basename(src))[0]
        for libc, cc in (("glibc", "gcc"), ("musl", "musl-gcc")):
            name = "%s.%s" % (base, libc)
            if select([name], only):
                c_tests.append(name)
                jobs_list.append((cc, src, os.path.join(bindir, name)))
    sh_tests = select([os.path.basename(s) for s in sh_sources], only)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda j: compile_one(*j), jobs_list))
    failed = [(exe, err) for exe, rc, err in results if rc != 0]
    if failed:
        for exe, err in failed:
            log("difftest: compiling %s failed:\n%s" % (os.path.basename(exe), err))
        fatal("build failed")

    cpio = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc", "tests"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
    cpio.file("etc/group", b"root:x:0:\n", 0o644)
    cpio.file("init", open(os.path.join(bindir, "init"), "rb").read())
    cpio.file("bin/busybox", open("/bin/busybox", "rb").read())
    applets = subprocess.run(["/bin/busybox", "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for path in sorted(applets):
        if path in ("bin/busybox", "linuxrc", "init", "sbin/init"):
            continue
        cpio.symlink(path, "/bin/busybox")
    manifest = []
    for name in c_tests:
        cpio.file("tests/" + name, open(os.path.join(bindir, name), "rb").read())
        manifest.append("%s %d /tests/%s" % (name, TEST_TIMEOUT, name))
    for name in sh_tests:
        cpio.file("tests/" + name, open(os.path.join(DIFF, "sh", name), "rb").read(), 0o644)
        manifest.append("%s %d /tests/%s" % (name, TEST_TIMEOUT, name))
    cpio.file("tests/manifest", ("\n".join(manifest) + "\n").encode(), 0o644)
    path = os.path.join(work, "initramfs.cpio")
    with open(path, "wb") as f:
        f.write(cpio.bytes())
    return path, c_tests + sh_tests


# ---------------------------------------------------------------- boot

def boot(label, kernel, append, initrd, timeout, logdir):
    """Boots one kernel; returns its console output. QEMU is stopped when it exits by itself,
    a few seconds after init printed DONE (a kernel without ioperm/reboot keeps running), or
    at the timeout."""
    cmd = QEMU + ["-kernel", kernel, "-initrd", initrd, "-append", append]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    done_at = []

    def reader():
        tail = b""
        while True:
            data = p.stdout.read1(65536)
            if not data:
                return
            chunks.append(data)
            tail = (tail + data)[-4096:]
            if not done_at and (MARK + " DONE").encode() in tail:
                done_at.append(time.monotonic())

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    timed_out = False
    while p.poll() is None:
        now = time.monotonic()
        if done_at and now - done_at[0] > DONE_GRACE:
            p.kill()
            break
        if now - t0 > timeout:
            timed_out = True
            p.kill()
            break
        time.sleep(0.05)
    p.wait()
    th.join(timeout=5)
    wall = time.monotonic() - t0
    text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    with open(os.path.join(logdir, label + ".log"), "w") as f:
        f.write("# " + " ".join(cmd) + "\n" + text)
    return {"label": label, "text": text, "wall": wall, "timed_out": timed_out, "rc": p.returncode}


def parse(run):
    """{check key: value} for one boot, plus a list of problems found."""
    checks, order = {}, []
    current = None
    seen_done = False
    for line in run["text"].split("\n"):
        if line.startswith(MARK):
            words = line.split()
            if len(words) >= 3 and words[1] == "BEGIN":
                current = words[2]
                order.append(current)
            elif len(words) >= 4 and words[1] == "END":
                name, status = words[2], " ".join(words[3:])
                checks[name + ":exit"] = status
                current = None
            elif len(words) >= 2 and words[1] == "DONE":
                seen_done = True
            continue
        m = CHECK_RE.match(line)
        if not m:
            continue
        test = current if current else "init"
        name, value = m.group(1), m.group(2).rstrip()
        if test == "init" and name.startswith("init."):
            name = name[len("init."):]
        key = "%s:%s" % (test, name)
        n = 2
        while key in checks:  # a repeated name: keep both, numbered
            key = "%s:%s#%d" % (test, name, n)
            n += 1
        checks[key] = value
    checks["harness:completed"] = "yes" if seen_done else (
        "no (timeout)" if run["timed_out"] else "no (rc %s)" % run["rc"])
    return checks, order


def load_known():
    known = []
    if not os.path.exists(KNOWN):
        return known
    for raw in open(KNOWN):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            fatal("%s: a known difference needs a reason: %r" % (KNOWN, line))
        known.append((parts[0], parts[1]))
    return known


def sanity(checks, tests, label):
    """Problems in a reference (Linux) run: a test that did not exit 0 or printed no check."""
    problems = []
    for t in tests:
        st = checks.get(t + ":exit")
        if st is None:
            problems.append("%s: %s did not run to its END marker" % (label, t))
        elif st != "exit 0":
            problems.append("%s: %s ended with %s (tests must exit 0)" % (label, t, st))
        if not any(k.startswith(t + ":") and not k.endswith(":exit") for k in checks):
            problems.append("%s: %s printed no check" % (label, t))
    if checks.get("harness:completed") != "yes":
        problems.append("%s: init did not reach DONE (%s)" % (label, checks.get("harness:completed")))
    return problems


def compare(a, b, names, known, verbose):
    """Returns (passed, failures, known_hits, fixed_known)."""
    passed, failures, known_hits = 0, [], []
    matched_patterns, agreeing_patterns = set(), set()
    keys = list(a) + [k for k in b if k not in a]
    for key in keys:
        va, vb = a.get(key), b.get(key)
        if va == vb:
            passed += 1
            agreeing_patterns.update(pat for pat, _ in known if fnmatch.fnmatchcase(key, pat))
            if verbose:
                log("  ok   %s: %s" % (key, va))
            continue
        reason = None
        # a known difference excuses a different value, never a check that one side lacks
        for pat, why in (known if va is not None and vb is not None else []):
            if fnmatch.fnmatchcase(key, pat):
                reason = why
                matched_patterns.add(pat)
                break
        what = "%s: %s=%s %s=%s" % (key, names[0], "<missing>" if va is None else repr(va),
                                     names[1], "<missing>" if vb is None else repr(vb))
        if reason:
            known_hits.append("%s  [%s]" % (what, reason))
        else:
            failures.append(what)
    # entries whose checks ran on both kernels and agreed everywhere
    unused = [pat for pat, _ in known if pat in agreeing_patterns and pat not in matched_patterns]
    return passed, failures, known_hits, unused


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", help="Keel image (build/keel.elf); default: build/keel.elf")
    ap.add_argument("--linux-only", action="store_true", help="boot Linux twice and compare it with itself")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="tests to run (glob on NAME or NAME.libc)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel compiles and boots")
    ap.add_argument("--keep", metavar="DIR", help="build and logs go to DIR (kept)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per boot (default 600)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every check")
    args = ap.parse_args()
    t_start = time.monotonic()

    keel = None
    if not args.linux_only:
        keel = args.kernel or os.path.join(ROOT, "build", "keel.elf")
        if not os.path.exists(keel):
            fatal("no Keel image at %s (build it with ./keel build, or use --linux-only)" % keel)
    ensure_tools()
    vmlinuz = linux_ref.linux_kernel(quiet=False)
    if not vmlinuz:
        fatal("Linux 6.12 is not available (apt-get download of "
              "linux-image-6.12.*-cloud-amd64-unsigned failed)")

    work = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="keel-difftest-")
    os.makedirs(work, exist_ok=True)
    initrd, tests = build_initramfs(work, args.only, max(1, args.jobs))
    if not tests:
        fatal("--only selected no test")
    t_built = time.monotonic()
    log("difftest: %d test programs built in %.1f s (%s)" % (len(tests), t_built - t_start, work))

    linux_append = linux_ref.linux_append()
    boots = [("linux", vmlinuz, linux_append)]
    if args.linux_only:
        boots.append(("linux2", vmlinuz, linux_append))
    else:
        boots.append(("keel", keel, KEEL_APPEND))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(args.jobs, len(boots)))) as pool:
        runs = list(pool.map(lambda b: boot(b[0], b[1], b[2], initrd, args.timeout, work), boots))
    # The reference kernel itself sometimes dies while booting under
    # multi-threaded TCG (an int3 left by its own code patching: "Oops: int3"
    # in sched_clock_cpu, then a panic). That says nothing about Keel, so a
    # Linux boot that panicked before finishing is booted once more. Keel's
    # boots are never retried.
    for i, (label, kernel, append) in enumerate(boots):
        text = runs[i]["text"]
        if label.startswith("linux") and MARK + " DONE" not in text and "Kernel panic" in text:
            log("difftest: %s panicked before finishing (an environment fault of the reference kernel"
                " under TCG); booting it once more" % label)
            os.replace(os.path.join(work, label + ".log"), os.path.join(work, label + "-panicked.log"))
            runs[i] = boot(label, kernel, append, initrd, args.timeout, work)
    for r in runs:
        log("difftest: %s booted and ran in %.1f s%s" % (r["label"], r["wall"],
                                                          " (TIMED OUT)" if r["timed_out"] else ""))

    parsed = [parse(r) for r in runs]
    problems = sanity(parsed[0][0], tests, runs[0]["label"])
    if args.linux_only:
        problems += sanity(parsed[1][0], tests, runs[1]["label"])
    known = [] if args.linux_only else load_known()
    passed, failures, known_hits, unused = compare(parsed[0][0], parsed[1][0],
                                                  (runs[0]["label"], runs[1]["label"]), known, args.verbose)
    for p in problems:
        log("PROBLEM %s" % p)
    for f in failures:
        log("FAIL %s" % f)
    if known_hits:
        log("difftest: %d known differences (tests/diff/known-differences.txt):" % len(known_hits))
        for k in known_hits:
            log("  KNOWN %s" % k)
    if unused and not args.linux_only:
        log("difftest: known differences that no longer differ (consider removing): %s" % ", ".join(unused))
    failed = len(failures) + len(problems)
    keep = bool(args.keep) or failed > 0
    log("difftest: total %.1f s%s" % (time.monotonic() - t_start, "; build and console logs in %s" % work if keep else ""))
    log("difftest: %d passed, %d failed" % (passed, failed))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
